"""Latent packets: a float tensor of soft tokens <-> a compact, verifiable packet.

The byte layout is the one documented at the top of codec/packet.h (format version 1,
little-endian): payload per dtype, one fp32 scale per group for the int types (groups
run over the flattened tensor), optional rotation of every row, and an XXH3-64 (seed 0)
checksum over a canonical header + scales + payload. Packets this module encodes are
byte-identical to the C++ codec's for the same input and encoding, and decoding gives
the same floats; the shared test vectors in codec/testdata/vectors prove it.

Every decode validates first (version, encoding, shape and size limits, payload and
scales lengths, scales in [0, 2^120], checksum) and refuses non-finite values; bad
input raises PacketError (ChecksumError for a checksum mismatch), both ValueErrors.
"""
from __future__ import annotations

import dataclasses
import enum
import functools
import struct

import numpy as np
import xxhash

from latentbus.codec import kernels
from latentbus.codec.encoding import (DType, Encoding, Rotation, dtype_name, encoding_name,
                                      num_groups, parse_encoding, payload_bytes)
from latentbus.codec.errors import ChecksumError, PacketError
from latentbus.codec.rotation import BlockHadamardRotation, HadamardRotation, check_width

FORMAT_VERSION = 1
MAX_RANK = 4
# Largest tensor a decoder materialises by default: 64 Mi floats (256 MiB). numpy's
# temporaries on the way take about 3.5x that at peak for int4 (~1 GiB at this limit);
# pass a smaller max_elements where memory is tight.
DEFAULT_MAX_ELEMENTS = 1 << 26
_MAX_SCALE = np.uint32(kernels.QUANT_LIMIT_ABS_BITS).view(np.float32)


class Space(enum.IntEnum):
    """Numeric values match latentbus.v1.Space."""
    UNSPECIFIED = 0
    HIDDEN = 1
    INPUT_EMBEDDING = 2


@dataclasses.dataclass
class Packet:
    """Mirrors latentbus.v1.LatentPacket field by field (see to_proto / from_proto)."""

    shape: tuple[int, ...] = ()
    encoding: Encoding = dataclasses.field(default_factory=Encoding)
    scales: bytes = b""
    payload: bytes = b""
    checksum: int = 0
    format_version: int = FORMAT_VERSION
    model_id: str = ""
    model_fingerprint: str = ""
    space: int = Space.UNSPECIFIED
    layer: int = 0


def shape_string(shape) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


def _checked_elements(shape, max_elements: int) -> int:
    if not 1 <= len(shape) <= MAX_RANK:
        raise PacketError(f"shape must have 1 to {MAX_RANK} dims, got {len(shape)}")
    n = 1
    for d in shape:
        if d == 0:
            raise PacketError(f"zero dim in {shape_string(shape)}")
        if d < 0 or d > 0xFFFFFFFF:
            raise PacketError(f"dim {d} in {shape_string(shape)} is not a u32")
        if n > max_elements // d:
            raise PacketError(f"shape {shape_string(shape)} exceeds the {max_elements}-element "
                              "limit")
        n *= d
    return n


def compute_checksum(packet: Packet) -> int:
    """The checksum the packet should carry. Does not validate."""
    e = packet.encoding
    dims = list(packet.shape)[:MAX_RANK]
    header = struct.pack(
        f"<IIIIQI{len(dims)}IQQ",
        packet.format_version & 0xFFFFFFFF, int(e.dtype) & 0xFFFFFFFF,
        e.group_size & 0xFFFFFFFF, int(e.rotation) & 0xFFFFFFFF,
        e.rotation_seed & 0xFFFFFFFFFFFFFFFF, len(packet.shape) & 0xFFFFFFFF, *dims,
        len(packet.scales), len(packet.payload))
    h = xxhash.xxh3_64(seed=0)
    h.update(header)
    h.update(packet.scales)
    h.update(packet.payload)
    return h.intdigest()


@functools.lru_cache(maxsize=32)
def _rotation(kind: int, width: int, seed: int) -> HadamardRotation | BlockHadamardRotation:
    if kind == Rotation.HADAMARD_BLOCK64:
        return BlockHadamardRotation(width, seed)
    return HadamardRotation(width, seed)


def _describe_bad_value(data: np.ndarray, limit_bits: int, what: str) -> str:
    bad = np.flatnonzero(kernels.abs_bits(data) >= limit_bits)
    if bad.size:
        i = int(bad[0])
        return f"element {i} is {float(data[i])!r}, {what}"
    return f"a value went out of range in the rotation ({what})"


def encode(data, encoding: Encoding | str = "int4/g32", *, model_id: str = "",
           model_fingerprint: str = "", space: int = Space.UNSPECIFIED,
           layer: int = 0) -> Packet:
    """Encodes a float array (any shape of rank 1..4, row-major; the last dim is the
    vector width) into a Packet. Values are converted to float32 first, as the C++
    codec takes float. Raises PacketError for a bad shape/encoding, a non-finite value,
    a value beyond the fp16/bf16 range or |x| >= 2^120 for the int types."""
    encoding = parse_encoding(encoding)
    try:
        given = np.asarray(data)
    except ValueError as e:  # ragged nested lists
        raise PacketError(f"cannot encode: not a rectangular array ({e})") from None
    if given.dtype.kind not in "fiub":  # complex would lose its imaginary part
        raise PacketError(f"cannot encode {given.dtype} values: give real numbers "
                          "(float, int or bool)")
    array = given.astype(np.float32, copy=False)
    shape = tuple(int(d) for d in array.shape)
    n = _checked_elements(shape, DEFAULT_MAX_ELEMENTS)
    array = np.ascontiguousarray(array)  # after the check: it makes 0-d arrays 1-d
    flat = array.reshape(-1)
    src = flat
    if encoding.rotation != Rotation.NONE:
        rot = _rotation(encoding.rotation, shape[-1], encoding.rotation_seed)
        with np.errstate(over="ignore", invalid="ignore"):
            src = np.ascontiguousarray(rot.forward(flat.reshape(-1, shape[-1])).reshape(-1))

    scales, payload = b"", b""
    limit, what = kernels.NON_FINITE_ABS_BITS, "not finite"
    dtype = encoding.dtype
    if dtype == DType.FP32:
        out = src if kernels.all_finite(src) else None
    elif dtype == DType.FP16:
        out = kernels.float_to_fp16(src)
        limit = kernels.FP16_OVERFLOW_ABS_BITS
        what = "not finite or beyond fp16 range (|x| >= 65520); use bf16 or int8"
    elif dtype == DType.BF16:
        out = kernels.float_to_bf16(src)
        limit, what = kernels.BF16_OVERFLOW_ABS_BITS, "not finite or beyond bf16 range"
    else:
        limit, what = kernels.QUANT_LIMIT_ABS_BITS, "not finite or |x| >= 2^120"
        quantize = kernels.quantize_int8 if dtype == DType.INT8 else kernels.quantize_int4
        out = quantize(src, encoding.group_size)
        if out is not None:
            scales_array, out = out
            scales = scales_array.astype("<f4").tobytes()
    if out is None:
        raise PacketError(f"cannot encode as {encoding_name(encoding)}: "
                          f"{_describe_bad_value(flat, limit, what)}")
    payload = np.ascontiguousarray(out).tobytes()
    assert len(payload) == payload_bytes(encoding, n)
    packet = Packet(shape=shape, encoding=encoding, scales=scales, payload=payload,
                    model_id=model_id, model_fingerprint=model_fingerprint, space=space,
                    layer=layer)
    packet.checksum = compute_checksum(packet)
    return packet


def validate(packet: Packet, max_elements: int = DEFAULT_MAX_ELEMENTS) -> None:
    """Checks everything that can be checked without decoding (codec::ValidatePacket)."""
    if packet.format_version != FORMAT_VERSION:
        raise PacketError(f"latent packet: format version {packet.format_version} not "
                          f"supported (this build reads version {FORMAT_VERSION})")
    try:
        packet.encoding.validate()
        n = _checked_elements(packet.shape, max_elements)
    except PacketError as e:
        raise PacketError(f"latent packet: {e}") from None
    enc = packet.encoding
    want_payload = payload_bytes(enc, n)
    if len(packet.payload) != want_payload:
        raise PacketError(
            f"latent packet: payload is {len(packet.payload)} bytes, shape "
            f"{shape_string(packet.shape)} as {encoding_name(enc)} needs {want_payload}")
    want_scales = num_groups(enc, n) * 4
    if len(packet.scales) != want_scales:
        raise PacketError(f"latent packet: scales are {len(packet.scales)} bytes, expected "
                          f"{want_scales}")
    if enc.rotation != Rotation.NONE:
        try:
            check_width(packet.shape[-1], enc.rotation)
        except PacketError as e:
            raise PacketError(f"latent packet: {e}") from None
    if want_scales:
        scales = np.frombuffer(packet.scales, dtype="<f4")
        ok = (scales >= 0) & (scales <= _MAX_SCALE)  # False for NaN
        if not ok.all():
            i = int(np.flatnonzero(~ok)[0])
            raise PacketError(f"latent packet: scale {i} is {float(scales[i])!r} "
                              "(must be in [0, 2^120])")
    want = compute_checksum(packet)
    if packet.checksum != want:
        raise ChecksumError(f"latent packet: checksum mismatch (carried {packet.checksum:016x}, "
                            f"computed {want:016x})")


def decode(packet: Packet, max_elements: int = DEFAULT_MAX_ELEMENTS) -> np.ndarray:
    """Validates and decodes a packet into a float32 array of its shape."""
    validate(packet, max_elements)
    enc = packet.encoding
    n = int(np.prod(packet.shape, dtype=np.int64))
    dtype = enc.dtype
    if dtype == DType.FP32:
        out = np.frombuffer(packet.payload, dtype="<f4").astype(np.float32)
        if not kernels.all_finite(out):
            out = None
    elif dtype == DType.FP16:
        out = kernels.fp16_to_float(np.frombuffer(packet.payload, dtype="<f2"))
    elif dtype == DType.BF16:
        out = kernels.bf16_to_float(np.frombuffer(packet.payload, dtype="<u2"))
    else:
        scales = np.frombuffer(packet.scales, dtype="<f4").astype(np.float32)
        if dtype == DType.INT8:
            out = kernels.dequantize_int8(np.frombuffer(packet.payload, dtype=np.int8), scales,
                                          n, enc.group_size)
        else:
            out = kernels.dequantize_int4(np.frombuffer(packet.payload, dtype=np.uint8), scales,
                                          n, enc.group_size)
    if out is None:
        raise PacketError(f"latent packet: payload holds a non-finite {dtype_name(dtype)} value")
    if enc.rotation != Rotation.NONE:
        width = packet.shape[-1]
        with np.errstate(over="ignore", invalid="ignore"):
            out = _rotation(enc.rotation, width, enc.rotation_seed).inverse(out.reshape(-1, width)).reshape(-1)
        # Finite payloads can still overflow inside the inverse transform.
        if not kernels.all_finite(np.ascontiguousarray(out)):
            raise PacketError("latent packet: values overflow to infinity in the inverse rotation")
    return np.ascontiguousarray(out, dtype=np.float32).reshape(packet.shape)
