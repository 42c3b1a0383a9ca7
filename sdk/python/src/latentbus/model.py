"""Building the ModelSpec an agent registers with."""
from __future__ import annotations

from latentbus.codec.encoding import Encoding, parse_encoding
from latentbus.codec.proto import encoding_to_proto
from latentbus.v1 import model_pb2

ModelSpec = model_pb2.ModelSpec


def model_spec(model_id: str, fingerprint: str, *, hidden_size: int, embedding_size: int,
               max_soft_tokens: int, preferred_encoding: str | Encoding = "int4/g32",
               tap_layer: int = 0, num_layers: int = 0, family: str = "",
               vocab_size: int = 0) -> model_pb2.ModelSpec:
    """A latentbus.v1.ModelSpec. The broker checks (broker/validation.cc): model_id and
    fingerprint non-empty printable names, hidden_size / embedding_size in [1, 2^20],
    max_soft_tokens >= 1, tap_layer < num_layers when num_layers is set, and a valid
    preferred encoding (the encoding this agent wants latents delivered in)."""
    return model_pb2.ModelSpec(
        model_id=model_id, fingerprint=fingerprint, family=family, hidden_size=hidden_size,
        tap_layer=tap_layer, embedding_size=embedding_size,
        preferred_encoding=encoding_to_proto(parse_encoding(preferred_encoding)),
        max_soft_tokens=max_soft_tokens, num_layers=num_layers, vocab_size=vocab_size)
