from latentbus.v1 import latent_pb2 as _latent_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ModelSpec(_message.Message):
    __slots__ = ["embedding_size", "family", "fingerprint", "hidden_size", "max_soft_tokens", "model_id", "num_layers", "preferred_encoding", "tap_layer", "vocab_size"]
    EMBEDDING_SIZE_FIELD_NUMBER: _ClassVar[int]
    FAMILY_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    HIDDEN_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_SOFT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    NUM_LAYERS_FIELD_NUMBER: _ClassVar[int]
    PREFERRED_ENCODING_FIELD_NUMBER: _ClassVar[int]
    TAP_LAYER_FIELD_NUMBER: _ClassVar[int]
    VOCAB_SIZE_FIELD_NUMBER: _ClassVar[int]
    embedding_size: int
    family: str
    fingerprint: str
    hidden_size: int
    max_soft_tokens: int
    model_id: str
    num_layers: int
    preferred_encoding: _latent_pb2.Encoding
    tap_layer: int
    vocab_size: int
    def __init__(self, model_id: _Optional[str] = ..., fingerprint: _Optional[str] = ..., family: _Optional[str] = ..., hidden_size: _Optional[int] = ..., tap_layer: _Optional[int] = ..., embedding_size: _Optional[int] = ..., preferred_encoding: _Optional[_Union[_latent_pb2.Encoding, _Mapping]] = ..., max_soft_tokens: _Optional[int] = ..., num_layers: _Optional[int] = ..., vocab_size: _Optional[int] = ...) -> None: ...
