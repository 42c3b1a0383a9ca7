"""Element kernels of the codec over flat float32 arrays (numpy).

They follow the quantization contract of codec/kernels.h bit for bit:
  groups of `group` consecutive elements (the last may be shorter);
  absmax = max |x| in the group; scale = absmax / Q; inv = Q / absmax, or 0 where that is
  not a finite float (absmax == 0, or below about Q / FLT_MAX: such groups quantize to
  zeros) (both fp32 divisions); q = clamp(round_half_even(x * inv), -Q, Q), Q = 127 (int8) or
  7 (int4); int4 stored as q + 8, element 2i in the low nibble of byte i, 2i+1 in the
  high nibble (0 when absent). Dequantization: x' = fp32(q) * scale.
fp16 and bf16 round to nearest, ties to even. Every numpy operation here is one IEEE
fp32 operation per element (no fused multiply-add), which is what makes the results
identical to the C++ scalar and AVX2 kernels.

Functions that encode return None when an input cannot be represented (non-finite,
beyond the fp16/bf16 range, or |x| >= 2^120 for the int types); the caller reports it.
"""
from __future__ import annotations

import numpy as np

NON_FINITE_ABS_BITS = 0x7F800000
QUANT_LIMIT_ABS_BITS = 0x7B800000  # 2^120: keeps every scale <= 2^120
FP16_OVERFLOW_ABS_BITS = 0x477FF000  # 65520 rounds to infinity in fp16
BF16_OVERFLOW_ABS_BITS = 0x7F7F8000

_F32 = np.float32


def abs_bits(x: np.ndarray) -> np.ndarray:
    """|x| as raw bits (ordered like |x|; every non-finite value >= NON_FINITE_ABS_BITS)."""
    return x.view(np.uint32) & np.uint32(0x7FFFFFFF)


def _groups(x: np.ndarray, group: int) -> tuple[np.ndarray, int]:
    """x zero-padded to whole groups, viewed as [num_groups, group]; and the pad length."""
    n = x.size
    pad = (-n) % group
    if pad:
        x = np.concatenate([x, np.zeros(pad, dtype=_F32)])
    return x.reshape(-1, group), pad


def _quantize(x: np.ndarray, group: int, qmax: int):
    bits = abs_bits(x)
    if bits.size and int(bits.max()) >= QUANT_LIMIT_ABS_BITS:
        return None
    grouped, pad = _groups(x, group)
    # Zero padding never raises a group's absmax, so the last group's scale is exact.
    absmax = np.abs(grouped).max(axis=1)
    q = _F32(qmax)
    scales = (absmax / q).astype(_F32)
    with np.errstate(divide="ignore", over="ignore"):
        quotient = (q / absmax).astype(_F32)
    inv = np.where(np.isfinite(quotient), quotient, _F32(0)).astype(_F32)
    r = np.rint(grouped * inv[:, None])
    np.clip(r, -q, q, out=r)
    values = r.astype(np.int8).reshape(-1)
    if pad:
        values = values[:-pad]
    return scales, values


def quantize_int8(x: np.ndarray, group: int):
    """(scales fp32[G], q int8[n]) or None."""
    return _quantize(x, group, 127)


def quantize_int4(x: np.ndarray, group: int):
    """(scales fp32[G], packed uint8[ceil(n/2)]) or None."""
    out = _quantize(x, group, 7)
    if out is None:
        return None
    scales, q = out
    nibbles = (q.astype(np.int16) + 8).astype(np.uint8)
    if nibbles.size % 2:
        nibbles = np.concatenate([nibbles, np.zeros(1, dtype=np.uint8)])
        # The absent high nibble of the last byte is 0, not 8.
    pairs = nibbles.reshape(-1, 2)
    packed = (pairs[:, 0] | (pairs[:, 1] << np.uint8(4))).astype(np.uint8)
    return scales, packed


def _expand_scales(scales: np.ndarray, n: int, group: int) -> np.ndarray:
    return np.repeat(scales, group)[:n]


def dequantize_int8(q: np.ndarray, scales: np.ndarray, n: int, group: int) -> np.ndarray:
    return q.astype(_F32) * _expand_scales(scales, n, group)


def dequantize_int4(packed: np.ndarray, scales: np.ndarray, n: int, group: int) -> np.ndarray:
    nibbles = np.empty(packed.size * 2, dtype=np.int16)
    nibbles[0::2] = packed & 0x0F
    nibbles[1::2] = packed >> 4
    q = (nibbles[:n] - 8).astype(_F32)
    return q * _expand_scales(scales, n, group)


def float_to_fp16(x: np.ndarray):
    if x.size and int(abs_bits(x).max()) >= FP16_OVERFLOW_ABS_BITS:
        return None
    return x.astype(np.float16)


def fp16_to_float(h: np.ndarray):
    if np.any((h.view(np.uint16) & 0x7C00) == 0x7C00):
        return None
    return h.astype(_F32)


def float_to_bf16(x: np.ndarray):
    if x.size and int(abs_bits(x).max()) >= BF16_OVERFLOW_ABS_BITS:
        return None
    u = x.view(np.uint32)
    rounded = (u + np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1))) >> np.uint32(16)
    return rounded.astype(np.uint16)


def bf16_to_float(h: np.ndarray):
    if np.any((h & 0x7F80) == 0x7F80):
        return None
    return (h.astype(np.uint32) << np.uint32(16)).view(_F32)


def all_finite(x: np.ndarray) -> bool:
    return not x.size or int(abs_bits(x).max()) < NON_FINITE_ABS_BITS
