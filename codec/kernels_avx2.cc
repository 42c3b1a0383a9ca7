// AVX2 + FMA + F16C kernels. This file is compiled with -mavx2 -mfma -mf16c and is
// only called after a run-time CPU check (kernels.cc). Ragged last groups and tails
// go through the scalar routines, which compute the same bits.
#include <immintrin.h>

#include <algorithm>
#include <limits>

#include "codec/half.h"
#include "codec/kernels.h"
#include "codec/kernels_internal.h"
#include "codec/kernels_x86.h"
#include "codec/rotation_kernels.h"

namespace latentbus::codec::internal {
namespace {

inline __m256i AbsBitsV(__m256 v) {
  return _mm256_and_si256(_mm256_castps_si256(v), _mm256_set1_epi32(0x7fffffff));
}

inline uint32_t HorizontalMaxU32(__m256i v) {
  __m128i m = _mm_max_epu32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  m = _mm_max_epu32(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(1, 0, 3, 2)));
  m = _mm_max_epu32(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(2, 3, 0, 1)));
  return static_cast<uint32_t>(_mm_cvtsi128_si32(m));
}

inline uint32_t MaxAbsBits(const float* x, size_t len) {  // len % 8 == 0
  __m256i m0 = _mm256_setzero_si256();
  __m256i m1 = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 16 <= len; i += 16) {
    m0 = _mm256_max_epu32(m0, AbsBitsV(_mm256_loadu_ps(x + i)));
    m1 = _mm256_max_epu32(m1, AbsBitsV(_mm256_loadu_ps(x + i + 8)));
  }
  for (; i < len; i += 8) m0 = _mm256_max_epu32(m0, AbsBitsV(_mm256_loadu_ps(x + i)));
  return HorizontalMaxU32(_mm256_max_epu32(m0, m1));
}

// round_half_even(x[0..32) * inv) as 32 saturated int8 values in element order.
inline __m256i Quantize32(const float* x, __m256 inv) {
  const __m256i a = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x), inv));
  const __m256i b = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 8), inv));
  const __m256i c = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 16), inv));
  const __m256i d = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 24), inv));
  const __m256i ab = _mm256_packs_epi32(a, b);
  const __m256i cd = _mm256_packs_epi32(c, d);
  const __m256i abcd = _mm256_packs_epi16(ab, cd);
  return _mm256_permutevar8x32_epi32(abcd, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// Max |x| bits of 8 consecutive groups at once: per-group accumulators reduced with
// one transpose, then scales and multipliers for all 8 with one vector division each
// (IEEE division is correctly rounded, so this equals the scalar GroupScale).
// Returns false if a group holds a non-finite value or |x| >= 2^120.
bool GroupScales8(const float* x, size_t group, int qmax, float* scales, float* invs) {
  __m256i m[8];
  for (int k = 0; k < 8; ++k) {
    const float* g = x + k * group;
    __m256i a = AbsBitsV(_mm256_loadu_ps(g));
    __m256i b = AbsBitsV(_mm256_loadu_ps(g + 8));
    for (size_t i = 16; i < group; i += 16) {
      a = _mm256_max_epu32(a, AbsBitsV(_mm256_loadu_ps(g + i)));
      b = _mm256_max_epu32(b, AbsBitsV(_mm256_loadu_ps(g + i + 8)));
    }
    m[k] = _mm256_max_epu32(a, b);
  }
  __m256i t[4];
  for (int k = 0; k < 4; ++k) {
    t[k] = _mm256_max_epu32(_mm256_unpacklo_epi32(m[2 * k], m[2 * k + 1]),
                            _mm256_unpackhi_epi32(m[2 * k], m[2 * k + 1]));
  }
  const __m256i u0 =
      _mm256_max_epu32(_mm256_unpacklo_epi64(t[0], t[1]), _mm256_unpackhi_epi64(t[0], t[1]));
  const __m256i u1 =
      _mm256_max_epu32(_mm256_unpacklo_epi64(t[2], t[3]), _mm256_unpackhi_epi64(t[2], t[3]));
  const __m256i bits = _mm256_max_epu32(_mm256_permute2x128_si256(u0, u1, 0x20),
                                        _mm256_permute2x128_si256(u0, u1, 0x31));
  const __m256i bad = _mm256_cmpgt_epi32(bits, _mm256_set1_epi32(kQuantLimitAbsBits - 1));
  if (!_mm256_testz_si256(bad, bad)) return false;
  const __m256 absmax = _mm256_castsi256_ps(bits);
  const __m256 q = _mm256_set1_ps(static_cast<float>(qmax));
  _mm256_storeu_ps(scales, _mm256_div_ps(absmax, q));
  // Q / absmax where that is finite: 0 for zero groups (inf) and tiny ones (overflow).
  const __m256 inv = _mm256_div_ps(q, absmax);
  const __m256 finite =
      _mm256_cmp_ps(inv, _mm256_set1_ps(std::numeric_limits<float>::max()), _CMP_LE_OQ);
  _mm256_storeu_ps(invs, _mm256_and_ps(inv, finite));
  return true;
}

// Shared driver: scales for batches of 8 groups, then `body(offset, inv)` per group;
// leftover full groups one by one; a ragged last group through the scalar kernel.
template <typename Body>
bool QuantizeGroups(const float* x, size_t n, size_t group, int qmax, float* scales, Body body) {
  size_t start = 0, g = 0;
  alignas(32) float invs[8];
  for (; start + 8 * group <= n; start += 8 * group, g += 8) {
    if (!GroupScales8(x + start, group, qmax, scales + g, invs)) return false;
    for (int k = 0; k < 8; ++k) body(start + k * group, _mm256_set1_ps(invs[k]));
  }
  for (; start + group <= n; start += group, ++g) {
    const uint32_t max_abs = MaxAbsBits(x + start, group);
    if (max_abs >= kQuantLimitAbsBits) return false;
    float inv;
    GroupScale(max_abs, qmax, &scales[g], &inv);
    body(start, _mm256_set1_ps(inv));
  }
  return true;
}

bool QuantizeInt8(const float* x, size_t n, size_t group, float* scales, int8_t* q) {
  const __m256i lo = _mm256_set1_epi8(-127);
  const __m256i hi = _mm256_set1_epi8(127);
  const size_t full = n / group * group;
  const bool ok = QuantizeGroups(x, full, group, 127, scales, [&](size_t off, __m256 vinv) {
    for (size_t j = off; j < off + group; j += 32) {
      __m256i v = Quantize32(x + j, vinv);
      v = _mm256_max_epi8(_mm256_min_epi8(v, hi), lo);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + j), v);
    }
  });
  return ok && QuantizeInt8Rest(x, n, full, group, scales, q);
}

bool QuantizeInt4(const float* x, size_t n, size_t group, float* scales, uint8_t* packed) {
  const __m256i lo = _mm256_set1_epi8(-7);
  const __m256i hi = _mm256_set1_epi8(7);
  const __m256i offset = _mm256_set1_epi8(8);
  const size_t full = n / group * group;
  const bool ok = QuantizeGroups(x, full, group, 7, scales, [&](size_t off, __m256 vinv) {
    for (size_t j = off; j < off + group; j += 32) {
      __m256i v = Quantize32(x + j, vinv);
      v = _mm256_add_epi8(_mm256_max_epi8(_mm256_min_epi8(v, hi), lo), offset);  // 1..15
      const __m256i w = FoldNibblePairs(v);
      const __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi16(w, w), 0x08);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(packed + j / 2), _mm256_castsi256_si128(p));
    }
  });
  return ok && QuantizeInt4Rest(x, n, full, group, scales, packed);
}

void DequantizeInt8(const int8_t* q, const float* scales, size_t n, size_t group, float* out) {
  size_t start = 0, g = 0;
  for (; start + group <= n; start += group, ++g) {
    const __m256 s = _mm256_set1_ps(scales[g]);
    for (size_t j = start; j < start + group; j += 16) {
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + j));
      const __m256 f0 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b));
      const __m256 f1 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(b, 8)));
      _mm256_storeu_ps(out + j, _mm256_mul_ps(f0, s));
      _mm256_storeu_ps(out + j + 8, _mm256_mul_ps(f1, s));
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
    const __m256 s = _mm256_set1_ps(scales[g]);
    for (size_t j = start; j < start + group; j += 32) {
      __m128i e0, e1;  // elements 0..15, 16..31
      UnpackNibbles32(packed + j / 2, &e0, &e1);
      _mm256_storeu_ps(out + j, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(e0)), s));
      _mm256_storeu_ps(
          out + j + 8,
          _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(e0, 8))), s));
      _mm256_storeu_ps(out + j + 16,
                       _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(e1)), s));
      _mm256_storeu_ps(
          out + j + 24,
          _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(e1, 8))), s));
    }
  }
  if (start < n) {
    ScalarKernels().dequantize_int4(packed + start / 2, &scales[g], n - start, group, out + start);
  }
}

bool FloatToFp16(const float* x, size_t n, uint16_t* out) {
  __m256i m = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    m = _mm256_max_epu32(m, AbsBitsV(v));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                     _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
  if (HorizontalMaxU32(m) >= kFp16OverflowAbsBits) return false;
  return ScalarKernels().float_to_fp16(x + i, n - i, out + i);
}

bool Fp16ToFloat(const uint16_t* in, size_t n, float* out) {
  const __m128i exp_mask = _mm_set1_epi16(0x7c00);
  __m128i bad = _mm_setzero_si128();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    bad = _mm_or_si128(bad, _mm_cmpeq_epi16(_mm_and_si128(h, exp_mask), exp_mask));
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(h));
  }
  if (_mm_movemask_epi8(bad) != 0) return false;
  return ScalarKernels().fp16_to_float(in + i, n - i, out + i);
}

inline __m256i RoundToBf16(__m256 v) {
  const __m256i u = _mm256_castps_si256(v);
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
  const __m256i r = _mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7fff)), lsb);
  return _mm256_srli_epi32(r, 16);
}

bool FloatToBf16(const float* x, size_t n, uint16_t* out) {
  __m256i m = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 a = _mm256_loadu_ps(x + i);
    const __m256 b = _mm256_loadu_ps(x + i + 8);
    m = _mm256_max_epu32(m, _mm256_max_epu32(AbsBitsV(a), AbsBitsV(b)));
    const __m256i packed = _mm256_packus_epi32(RoundToBf16(a), RoundToBf16(b));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i),
                        _mm256_permute4x64_epi64(packed, 0xd8));
  }
  if (HorizontalMaxU32(m) >= kBf16OverflowAbsBits) return false;
  return ScalarKernels().float_to_bf16(x + i, n - i, out + i);
}

bool Bf16ToFloat(const uint16_t* in, size_t n, float* out) {
  const __m128i exp_mask = _mm_set1_epi16(0x7f80);
  __m128i bad = _mm_setzero_si128();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    bad = _mm_or_si128(bad, _mm_cmpeq_epi16(_mm_and_si128(h, exp_mask), exp_mask));
    const __m256i u = _mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16);
    _mm256_storeu_ps(out + i, _mm256_castsi256_ps(u));
  }
  if (_mm_movemask_epi8(bad) != 0) return false;
  return ScalarKernels().bf16_to_float(in + i, n - i, out + i);
}

bool CopyFinite(const float* in, size_t n, float* out) {
  __m256i m = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(in + i);
    m = _mm256_max_epu32(m, AbsBitsV(v));
    _mm256_storeu_ps(out + i, v);
  }
  if (HorizontalMaxU32(m) >= kNonFiniteAbsBits) return false;
  return ScalarKernels().copy_finite(in + i, n - i, out + i);
}

bool AllFinite(const float* x, size_t n) {
  const size_t body = n / 8 * 8;
  if (body > 0 && MaxAbsBits(x, body) >= kNonFiniteAbsBits) return false;
  return ScalarKernels().all_finite(x + body, n - body);
}

}  // namespace

const Kernels& Avx2KernelTable() {
  static const Kernels kernels = {
      "avx2",      QuantizeInt8, QuantizeInt4, DequantizeInt8, DequantizeInt4, FloatToFp16,
      Fp16ToFloat, FloatToBf16,  Bf16ToFloat,  CopyFinite,     AllFinite,      RotateRowsAvx2,
  };
  return kernels;
}

}  // namespace latentbus::codec::internal
