"""Encodings of latent tensors: element type, quantization group size, rotation.

Mirrors codec/encoding.h: the same numeric values (they are the wire values of
latentbus.v1.DType / latentbus.v1.Rotation), the same validation, and the same names
("int4/g32", "int8/g128+rot", "bf16+rot:42").
"""
from __future__ import annotations

import dataclasses
import enum

from latentbus.codec.errors import PacketError


class DType(enum.IntEnum):
    FP32 = 1
    FP16 = 2
    BF16 = 3
    INT8 = 4
    INT4 = 5


class Rotation(enum.IntEnum):
    NONE = 0
    HADAMARD = 1  # "+rot": one transform across the row
    HADAMARD_BLOCK64 = 2  # "+rot64": transforms within blocks of 64 channels, any width


# Seed used when a rotation is requested without one ("latentbu" as a little-endian u64).
DEFAULT_ROTATION_SEED = 0x6C6174656E746275

GROUP_SIZES = (32, 64, 128)

_NAMES = {DType.FP32: "fp32", DType.FP16: "fp16", DType.BF16: "bf16", DType.INT8: "int8",
          DType.INT4: "int4"}


def is_quantized(dtype: int) -> bool:
    return dtype in (DType.INT8, DType.INT4)


@dataclasses.dataclass(frozen=True)
class Encoding:
    """How a tensor becomes bytes. The default is the recommended int4, groups of 32."""

    dtype: int = DType.INT4
    group_size: int = 32  # 32/64/128 for int8/int4; 0 for the float types
    rotation: int = Rotation.NONE
    rotation_seed: int = 0

    def validate(self) -> None:
        """Raises PacketError unless the dtype and rotation are known and the group
        size fits the dtype (codec::ValidateEncoding)."""
        if self.dtype in (DType.FP32, DType.FP16, DType.BF16):
            if self.group_size != 0:
                raise PacketError(f"encoding {_NAMES[DType(self.dtype)]} takes no group size, "
                                  f"got {self.group_size}")
        elif self.dtype in (DType.INT8, DType.INT4):
            if self.group_size not in GROUP_SIZES:
                raise PacketError(f"group size must be 32, 64 or 128, got {self.group_size}")
        else:
            raise PacketError(f"unknown dtype {self.dtype}")
        if self.rotation not in (Rotation.NONE, Rotation.HADAMARD, Rotation.HADAMARD_BLOCK64):
            raise PacketError(f"unknown rotation {self.rotation}")
        if not 0 <= self.rotation_seed < 1 << 64:
            raise PacketError(f"rotation seed {self.rotation_seed} is not a u64")

    @property
    def name(self) -> str:
        return encoding_name(self)

    def __str__(self) -> str:
        return encoding_name(self)


def num_groups(encoding: Encoding, num_elements: int) -> int:
    """Number of scales: ceil(n / group) for the int types, else 0."""
    if not is_quantized(encoding.dtype) or encoding.group_size == 0:
        return 0
    return (num_elements + encoding.group_size - 1) // encoding.group_size


def payload_bytes(encoding: Encoding, num_elements: int) -> int:
    """Exact payload size in bytes for `num_elements` elements."""
    return {
        DType.FP32: num_elements * 4,
        DType.FP16: num_elements * 2,
        DType.BF16: num_elements * 2,
        DType.INT8: num_elements,
        DType.INT4: (num_elements + 1) // 2,
    }.get(encoding.dtype, 0)


def dtype_name(dtype: int) -> str:
    """"fp32", "fp16", "bf16", "int8", "int4" ("unknown" otherwise)."""
    try:
        return _NAMES[DType(dtype)]
    except ValueError:
        return "unknown"


def encoding_name(encoding: Encoding) -> str:
    """"int4/g32", "int8/g128+rot", "fp16", "bf16+rot:42", "int4/g32+rot64"
    (codec::EncodingName)."""
    name = dtype_name(encoding.dtype)
    if is_quantized(encoding.dtype):
        name += f"/g{encoding.group_size}"
    if encoding.rotation != Rotation.NONE:
        name += "+rot64" if encoding.rotation == Rotation.HADAMARD_BLOCK64 else "+rot"
        if encoding.rotation_seed != DEFAULT_ROTATION_SEED:
            name += f":{encoding.rotation_seed}"
    return name


def parse_encoding(text: str | Encoding) -> Encoding:
    """Inverse of encoding_name. Accepts "int4" (group 32 by default), "int8/g64",
    "int4/g128+rot" (default seed), "int4+rot:1234" (explicit seed) and the same with
    "+rot64" for the block rotation. An Encoding
    passes through (validated). Raises PacketError (a ValueError) on anything else."""
    if isinstance(text, Encoding):
        text.validate()
        return text
    original = text
    rotation, seed = Rotation.NONE, 0
    if "+" in text:
        text, rot = text.split("+", 1)
        kind, colon, digits = rot.partition(":")
        kinds = {"rot": Rotation.HADAMARD, "rot64": Rotation.HADAMARD_BLOCK64}
        if kind not in kinds:
            raise PacketError(f"bad rotation in '{original}': expected +rot, +rot64, "
                              "+rot:SEED or +rot64:SEED")
        rotation, seed = kinds[kind], DEFAULT_ROTATION_SEED
        if colon:
            if not digits.isascii() or not digits.isdigit() or int(digits) >= 1 << 64:
                raise PacketError(f"bad rotation seed in '{original}'")
            seed = int(digits)
    dtype_name, _, group = text.partition("/")
    by_name = {v: k for k, v in _NAMES.items()}
    if dtype_name not in by_name:
        raise PacketError(f"unknown encoding '{original}': expected fp32, fp16, bf16, "
                          "int8[/gN] or int4[/gN]")
    dtype = by_name[dtype_name]
    group_size = 32 if is_quantized(dtype) else 0
    if group:
        if not group.startswith("g") or not group[1:].isascii() or not group[1:].isdigit():
            raise PacketError(f"bad group size in '{original}': expected /g32, /g64 or /g128")
        group_size = int(group[1:])
    encoding = Encoding(dtype, group_size, rotation, seed)
    try:
        encoding.validate()
    except PacketError as e:
        raise PacketError(f"encoding '{original}': {e}") from None
    return encoding
