// AVX-512 (F/BW/DQ/VL) quantize/dequantize kernels for the int8 and int4 types. This file
// is compiled with the AVX-512 flags and only called after a run-time CPU check
// (kernels.cc). Groups are 32, 64 or 128 elements (the encodings' sizes); ragged last
// groups and tails go through the scalar routines, which compute the same bits. The
// results equal the scalar kernels' bit for bit: the same fp32 divisions for the scales
// (vectorized, IEEE-exact), the same product x * inv rounded half to even (vcvtps2dq in
// the default rounding mode, like nearbyint), the same clamps.
#include <immintrin.h>

#include "codec/half.h"
#include "codec/kernels.h"
#include "codec/kernels_internal.h"
#include "codec/kernels_x86.h"
#include "codec/rotation_kernels.h"

namespace latentbus::codec::internal {
namespace {

inline __m512i AbsBits16(const float* p) {
  return _mm512_and_si512(_mm512_castps_si512(_mm512_loadu_ps(p)), _mm512_set1_epi32(0x7fffffff));
}

// Lane k of the result: the largest of the 16 values of m[k] (unsigned). A transposing
// reduction: pairs of registers, then pairs of pairs, then the four 128-bit lanes.
inline __m512i LaneMaxima(const __m512i (&m)[16]) {
  __m512i t[8];
  for (int k = 0; k < 8; ++k) {
    t[k] = _mm512_max_epu32(_mm512_unpacklo_epi32(m[2 * k], m[2 * k + 1]),
                            _mm512_unpackhi_epi32(m[2 * k], m[2 * k + 1]));
  }
  __m512i u[4];  // each 128-bit lane: groups 4k .. 4k + 3, over that lane's values
  for (int k = 0; k < 4; ++k) {
    u[k] = _mm512_max_epu32(_mm512_unpacklo_epi64(t[2 * k], t[2 * k + 1]),
                            _mm512_unpackhi_epi64(t[2 * k], t[2 * k + 1]));
  }
  const __m512i w01 = _mm512_max_epu32(_mm512_shuffle_i32x4(u[0], u[1], _MM_SHUFFLE(1, 0, 1, 0)),
                                       _mm512_shuffle_i32x4(u[0], u[1], _MM_SHUFFLE(3, 2, 3, 2)));
  const __m512i w23 = _mm512_max_epu32(_mm512_shuffle_i32x4(u[2], u[3], _MM_SHUFFLE(1, 0, 1, 0)),
                                       _mm512_shuffle_i32x4(u[2], u[3], _MM_SHUFFLE(3, 2, 3, 2)));
  return _mm512_max_epu32(_mm512_shuffle_i32x4(w01, w23, _MM_SHUFFLE(2, 0, 2, 0)),
                          _mm512_shuffle_i32x4(w01, w23, _MM_SHUFFLE(3, 1, 3, 1)));
}

// Scales and multipliers of 16 consecutive groups with one vector division each. Returns
// false if a group holds a non-finite value or |x| >= 2^120.
bool GroupScales16(const float* x, size_t group, int qmax, float* scales, float* invs) {
  __m512i m[16];
  for (int k = 0; k < 16; ++k) {
    const float* g = x + k * group;
    __m512i a = AbsBits16(g);
    __m512i b = AbsBits16(g + 16);
    for (size_t i = 32; i < group; i += 32) {
      a = _mm512_max_epu32(a, AbsBits16(g + i));
      b = _mm512_max_epu32(b, AbsBits16(g + i + 16));
    }
    m[k] = _mm512_max_epu32(a, b);
  }
  const __m512i bits = LaneMaxima(m);
  if (_mm512_cmpge_epu32_mask(bits, _mm512_set1_epi32(kQuantLimitAbsBits)) != 0) return false;
  const __m512 absmax = _mm512_castsi512_ps(bits);
  const __m512 q = _mm512_set1_ps(static_cast<float>(qmax));
  _mm512_storeu_ps(scales, _mm512_div_ps(absmax, q));
  const __mmask16 positive = _mm512_cmp_ps_mask(absmax, _mm512_setzero_ps(), _CMP_GT_OQ);
  _mm512_storeu_ps(invs, _mm512_maskz_div_ps(positive, q, absmax));
  return true;
}

// Shared driver: scales for batches of 16 groups, then `body(offset, inv)` per group;
// the remaining full groups with AVX2's own driver width, one by one.
template <typename Body>
bool QuantizeGroups(const float* x, size_t n, size_t group, int qmax, float* scales, Body body) {
  size_t start = 0, g = 0;
  alignas(64) float invs[16];
  for (; start + 16 * group <= n; start += 16 * group, g += 16) {
    if (!GroupScales16(x + start, group, qmax, scales + g, invs)) return false;
    for (int k = 0; k < 16; ++k) body(start + k * group, _mm512_set1_ps(invs[k]));
  }
  for (; start + group <= n; start += group, ++g) {
    __m512i m = AbsBits16(x + start);
    for (size_t i = 16; i < group; i += 16) m = _mm512_max_epu32(m, AbsBits16(x + start + i));
    const uint32_t max_abs = _mm512_reduce_max_epu32(m);
    if (max_abs >= kQuantLimitAbsBits) return false;
    float inv;
    GroupScale(max_abs, qmax, &scales[g], &inv);
    body(start, _mm512_set1_ps(inv));
  }
  return true;
}

// round_half_even(x[0..16) * inv), saturated to int8, clamped to [-qmax, qmax].
inline __m128i Quantize16(const float* x, __m512 inv, __m128i lo, __m128i hi) {
  const __m512i r = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x), inv));
  return _mm_max_epi8(_mm_min_epi8(_mm512_cvtsepi32_epi8(r), hi), lo);
}

bool QuantizeInt8(const float* x, size_t n, size_t group, float* scales, int8_t* q) {
  const __m128i lo = _mm_set1_epi8(-127);
  const __m128i hi = _mm_set1_epi8(127);
  const size_t full = n / group * group;
  const bool ok = QuantizeGroups(x, full, group, 127, scales, [&](size_t off, __m512 vinv) {
    for (size_t j = off; j < off + group; j += 16) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q + j), Quantize16(x + j, vinv, lo, hi));
    }
  });
  return ok && QuantizeInt8Rest(x, n, full, group, scales, q);
}

bool QuantizeInt4(const float* x, size_t n, size_t group, float* scales, uint8_t* packed) {
  const __m128i lo = _mm_set1_epi8(-7);
  const __m128i hi = _mm_set1_epi8(7);
  const __m256i offset = _mm256_set1_epi8(8);
  const size_t full = n / group * group;
  const bool ok = QuantizeGroups(x, full, group, 7, scales, [&](size_t off, __m512 vinv) {
    for (size_t j = off; j < off + group; j += 32) {
      const __m256i v = _mm256_add_epi8(
          _mm256_set_m128i(Quantize16(x + j + 16, vinv, lo, hi), Quantize16(x + j, vinv, lo, hi)),
          offset);  // 1..15, element order
      _mm_storeu_si128(reinterpret_cast<__m128i*>(packed + j / 2),
                       _mm256_cvtepi16_epi8(FoldNibblePairs(v)));
    }
  });
  return ok && QuantizeInt4Rest(x, n, full, group, scales, packed);
}

void DequantizeInt8(const int8_t* q, const float* scales, size_t n, size_t group, float* out) {
  size_t start = 0, g = 0;
  for (; start + group <= n; start += group, ++g) {
    const __m512 s = _mm512_set1_ps(scales[g]);
    for (size_t j = start; j < start + group; j += 16) {
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + j));
      _mm512_storeu_ps(out + j, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(b)), s));
    }
  }
  if (start < n) {
    ScalarKernels().dequantize_int8(q + start, &scales[g], n - start, group, out + start);
  }
}

void DequantizeInt4(const uint8_t* packed, const float* scales, size_t n, size_t group,
                    float* out) {
  size_t start = 0, g = 0;
  for (; start + group <= n; start += group, ++g) {
    const __m512 s = _mm512_set1_ps(scales[g]);
    for (size_t j = start; j < start + group; j += 32) {
      __m128i e0, e1;  // elements 0..15, 16..31
      UnpackNibbles32(packed + j / 2, &e0, &e1);
      _mm512_storeu_ps(out + j, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(e0)), s));
      _mm512_storeu_ps(out + j + 16,
                       _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(e1)), s));
    }
  }
  if (start < n) {
    ScalarKernels().dequantize_int4(packed + start / 2, &scales[g], n - start, group, out + start);
  }
}

}  // namespace

// The AVX2 table with these kernels and the AVX-512 rotation (kernels.cc).
void UseAvx512Kernels(Kernels* k) {
  k->quantize_int8 = QuantizeInt8;
  k->quantize_int4 = QuantizeInt4;
  k->dequantize_int8 = DequantizeInt8;
  k->dequantize_int4 = DequantizeInt4;
  k->rotate_rows = RotateRowsAvx512;
}

}  // namespace latentbus::codec::internal
