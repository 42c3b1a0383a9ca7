"""The seeded randomized Hadamard rotations of codec/rotation.h, in numpy.

Definition of "+rot" (shared with the C++ codec). Width d = p * m, p = 2^k the largest
power of two dividing d, m odd, m <= 63.
  1. Signs: s_i = -1 if bit (i mod 64) of w_(i / 64) is set, else +1, where w_j is the
     j-th output of SplitMix64 seeded with the rotation seed; the Hadamard's 1/sqrt(p)
     is folded into them (s_i / sqrt(p) rounded to fp32).
  2. y = x * s (elementwise); view y as an m x p row-major matrix Y.
  3. Each row of Y: unnormalised Walsh-Hadamard transform (Sylvester order).
  4. Y <- C Y, C the m x m orthonormal DCT-II matrix (computed in double, rounded to
     fp32), accumulated in fp32 as out_k = ((0 + C[k][0] Y_0) + C[k][1] Y_1) + ...
The inverse applies C^T, the Hadamard, then the signs.

Definition of "+rot64", any width 1 <= d <= 2^20: blocks of 64 channels, then the last d mod 64
channels in blocks by its binary digits, largest first (77 = 64 + 8 + 4 + 1). Each block
of b channels: y = x * c with c_i = s_i / sqrt(b) rounded to fp32 (the signs as above),
then the unnormalised Walsh-Hadamard transform of the block, stages h = 1, 2, 4, ...
The inverse runs the stages, then multiplies by c.

This implementation performs the same fp32 operations in the same order as the C++
one (butterflies a + b / a - b; multiply then add, no fused multiply-add), so the
rotated values, and therefore the packets, are bit-identical. The DCT coefficients
come from the C library's cos() through Python's math module, as in C++.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from latentbus.codec.encoding import Rotation
from latentbus.codec.errors import PacketError

MAX_ODD_FACTOR = 63
MAX_WIDTH = 1 << 20
_MASK64 = (1 << 64) - 1


def splitmix64(state: int) -> tuple[int, int]:
    """One SplitMix64 step: (new state, output)."""
    state = (state + 0x9E3779B97F4A7C15) & _MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return state, z ^ (z >> 31)


def _power_of_two_factor(width: int) -> int:
    return width & -width


def check_width(width: int, kind: int = Rotation.HADAMARD) -> None:
    """Raises PacketError when a rotation of this kind and width is unsupported ("+rot64"
    takes any width in range)."""
    if width == 0 or width > MAX_WIDTH:
        raise PacketError(f"rotation width must be in [1, {MAX_WIDTH}], got {width}")
    if kind == Rotation.HADAMARD_BLOCK64:
        return
    odd = width // _power_of_two_factor(width)
    if odd > MAX_ODD_FACTOR:
        raise PacketError(
            f"rotation unsupported for width {width}: its odd factor {odd} exceeds "
            f"{MAX_ODD_FACTOR} (use a width 2^k * m with m <= {MAX_ODD_FACTOR}, or no rotation)")


class HadamardRotation:
    """Immutable after construction; forward/inverse are safe to call concurrently."""

    def __init__(self, width: int, seed: int):
        check_width(width)
        self.width = width
        self.pow2 = _power_of_two_factor(width)
        self.odd = width // self.pow2
        norm = np.float32(1.0 / math.sqrt(float(self.pow2)))
        self.signs = _signs(width, seed, np.full(width, norm, dtype=np.float32))
        self.dct = _dct_matrix(self.odd) if self.odd > 1 else None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Rotates every row of x ([rows, width] float32); returns a new array."""
        y = x.reshape(-1, self.odd, self.pow2) * self.signs.reshape(self.odd, self.pow2)
        y = _fwht(y)
        if self.dct is not None:
            y = _mix(y, self.dct)
        return y.reshape(x.shape)

    def inverse(self, x: np.ndarray) -> np.ndarray:
        y = x.reshape(-1, self.odd, self.pow2)
        if self.dct is not None:
            y = _mix(y, self.dct.T)
        y = _fwht(y)
        y = y * self.signs.reshape(self.odd, self.pow2)
        return y.reshape(x.shape)


def block_sizes(width: int) -> list[int]:
    """The "+rot64" blocks of a row, in order: 64s, then the binary digits of the rest."""
    sizes = [64] * (width // 64)
    rest = width % 64
    sizes += [b for b in (32, 16, 8, 4, 2, 1) if rest & b]
    return sizes


def _signs(width: int, seed: int, norms: np.ndarray) -> np.ndarray:
    """s_i * norms[i] as fp32, s_i from SplitMix64 (bit i mod 64 of word i / 64)."""
    signs = np.empty(width, dtype=np.float32)
    state, word = seed & _MASK64, 0
    for i in range(width):
        if i % 64 == 0:
            state, word = splitmix64(state)
        signs[i] = -norms[i] if (word >> (i % 64)) & 1 else norms[i]
    return signs


class BlockHadamardRotation:
    """"+rot64". Immutable after construction; forward/inverse are safe to call
    concurrently."""

    def __init__(self, width: int, seed: int):
        check_width(width, Rotation.HADAMARD_BLOCK64)
        self.width = width
        self.blocks = block_sizes(width)
        norms = np.concatenate([np.full(b, np.float32(1.0 / math.sqrt(float(b))),
                                        dtype=np.float32) for b in self.blocks])
        self.signs = _signs(width, seed, norms)
        self.full = width // 64 * 64  # channels in blocks of 64

    def _stages(self, y: np.ndarray) -> np.ndarray:
        rows = y.shape[0]
        out = np.empty_like(y)
        if self.full:
            out[:, :self.full] = _fwht(y[:, :self.full].reshape(rows, -1, 64)).reshape(rows, -1)
        begin = self.full
        for b in self.blocks[self.full // 64:]:
            out[:, begin:begin + b] = _fwht(y[:, begin:begin + b])
            begin += b
        return out

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Rotates every row of x ([rows, width] float32); returns a new array."""
        y = x.reshape(-1, self.width) * self.signs
        return self._stages(y).reshape(x.shape)

    def inverse(self, x: np.ndarray) -> np.ndarray:
        y = self._stages(x.reshape(-1, self.width))
        return (y * self.signs).reshape(x.shape)


@functools.lru_cache(maxsize=64)
def _dct_matrix(m: int) -> np.ndarray:
    c = np.empty((m, m), dtype=np.float32)
    for k in range(m):
        a = math.sqrt((1.0 if k == 0 else 2.0) / float(m))
        for n in range(m):
            c[k, n] = a * math.cos(math.pi * (float(n) + 0.5) * float(k) / float(m))
    c.setflags(write=False)
    return c


def _fwht(y: np.ndarray) -> np.ndarray:
    """Unnormalised Walsh-Hadamard transform along the last axis (length 2^k)."""
    p = y.shape[-1]
    lead = y.shape[:-1]
    h = 1
    while h < p:
        v = y.reshape(*lead, p // (2 * h), 2, h)
        a, b = v[..., 0, :], v[..., 1, :]
        y = np.stack([a + b, a - b], axis=-2).reshape(*lead, p)
        h *= 2
    return y


def _mix(y: np.ndarray, c: np.ndarray) -> np.ndarray:
    """out[:, k, :] = sum_n c[k, n] * y[:, n, :], accumulated in order n = 0, 1, ...
    with one fp32 multiply and one fp32 add per term (as the C++ loop)."""
    out = np.zeros_like(y)
    for n in range(c.shape[1]):
        out += c[:, n][None, :, None] * y[:, n, :][:, None, :]
    return out
