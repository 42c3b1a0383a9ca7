// AVX-512 (F/BW/DQ/VL) quantize/dequantize kernels for the int8 and int4 types. This file
// is compiled with the AVX-512 flags and only called after a run-time CPU check
// (kernels.cc). Groups are 32, 64 or 128 elements (the encodings' sizes); ragged last
// groups and tails go through the scalar routines, which compute the same bits. The
// results equal the scalar kernels' bit for bit: the same fp32 divisions for the scales
// (vectorized, IEEE-exact), the same product x * inv rounded half to even (vcvtps2dq in
// the default rounding mode, like nearbyint); the reference's clamps never change such a
// product (Round64), so the narrowing leaves them out.
#include <immintrin.h>

#include <cstring>
#include <limits>

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
  // Q / absmax where that is finite: 0 for zero groups (inf) and tiny ones (overflow).
  const __m512 inv = _mm512_div_ps(q, absmax);
  const __mmask16 finite =
      _mm512_cmp_ps_mask(inv, _mm512_set1_ps(std::numeric_limits<float>::max()), _CMP_LE_OQ);
  _mm512_storeu_ps(invs, _mm512_maskz_mov_ps(finite, inv));
  return true;
}

// 64 floats from x, register t (elements 16t .. 16t + 15) times inv[t], rounded half to
// even (vcvtps2dq), as 64 int8 values in element order. With GroupScale's multiplier
// |x * inv| <= Q (1 + 2^-23)^2 < Q + 1/2, so the result is already within [-Q, Q]: the
// packs never saturate and the reference's clamp changes nothing.
inline __m512i Round64(const float* x, const __m512 (&inv)[4]) {
  __m512i r[4];
  for (int t = 0; t < 4; ++t)
    r[t] = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + 16 * t), inv[t]));
  // Per 128-bit lane L the packs leave dword 4L + t = elements 4L .. 4L + 3 of register t;
  // the permutation puts dword 4t + L there instead.
  const __m512i packed =
      _mm512_packs_epi16(_mm512_packs_epi32(r[0], r[1]), _mm512_packs_epi32(r[2], r[3]));
  return _mm512_permutexvar_epi32(
      _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), packed);
}

// 64 int8 values in [-7, 7] as 32 bytes of the int4 layout: nibble q + 8 (= q xor 8 in
// the low four bits), element 2i low, 2i + 1 high.
inline __m256i PackNibbles64(__m512i v) {
  const __m512i w = _mm512_xor_si512(v, _mm512_set1_epi8(8));
  // Low byte of each 16-bit lane: bits 0-3 from w (element 2i), bits 4-7 from w >> 4
  // (element 2i + 1); vpmovwb keeps that byte.
  const __m512i folded = _mm512_ternarylogic_epi32(w, _mm512_srli_epi16(w, 4),
                                                   _mm512_set1_epi8(0x0f), 0xe4);  // c ? a : b
  return _mm512_cvtepi16_epi8(folded);
}

// Quantizes the whole groups of [x, x + n) (n a multiple of group, group 32, 64 or 128):
// scales for batches of 16 groups with one vector division, the leftover groups' with the
// scalar GroupScale; then emit(offset, v) for each 64 elements, v their int8 values
// (a last 32 elements, group 32, padded with zeros).
template <typename Emit>
bool QuantizeGroups(const float* x, size_t n, size_t group, int qmax, float* scales, Emit emit) {
  const int shift = group == 32 ? 5 : group == 64 ? 6 : 7;
  alignas(64) float invs[16] = {};
  for (size_t start = 0, g = 0; start < n; start += 16 * group, g += 16) {
    const size_t len = n - start < 16 * group ? n - start : 16 * group;
    if (len == 16 * group) {
      if (!GroupScales16(x + start, group, qmax, scales + g, invs)) return false;
    } else {
      for (size_t k = 0; k * group < len; ++k) {
        __m512i m = AbsBits16(x + start + k * group);
        for (size_t i = 16; i < group; i += 16) {
          m = _mm512_max_epu32(m, AbsBits16(x + start + k * group + i));
        }
        const uint32_t max_abs = _mm512_reduce_max_epu32(m);
        if (max_abs >= kQuantLimitAbsBits) return false;
        GroupScale(max_abs, qmax, &scales[g + k], &invs[k]);
      }
    }
    for (size_t j = 0; j < len; j += 64) {
      __m512 inv[4];
      for (int t = 0; t < 4; ++t) inv[t] = _mm512_set1_ps(invs[(j + 16 * t) >> shift]);
      if (j + 64 <= len) {
        emit(start + j, Round64(x + start + j, inv));
      } else {  // 32 elements left
        alignas(64) float pad[64] = {};
        std::memcpy(pad, x + start + j, 32 * sizeof(float));
        emit(start + j, Round64(pad, inv));
      }
    }
  }
  return true;
}

bool QuantizeInt8(const float* x, size_t n, size_t group, float* scales, int8_t* q) {
  if (group != 32 && group != 64 && group != 128) {
    return ScalarKernels().quantize_int8(x, n, group, scales, q);
  }
  const size_t full = n / group * group;
  const bool ok = QuantizeGroups(x, full, group, 127, scales, [q, full](size_t off, __m512i v) {
    if (off + 64 <= full) {
      _mm512_storeu_si512(q + off, v);
    } else {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + off), _mm512_castsi512_si256(v));
    }
  });
  return ok && QuantizeInt8Rest(x, n, full, group, scales, q);
}

bool QuantizeInt4(const float* x, size_t n, size_t group, float* scales, uint8_t* packed) {
  if (group != 32 && group != 64 && group != 128) {
    return ScalarKernels().quantize_int4(x, n, group, scales, packed);
  }
  const size_t full = n / group * group;
  const bool ok = QuantizeGroups(x, full, group, 7, scales, [packed, full](size_t off, __m512i v) {
    const __m256i bytes = PackNibbles64(v);
    if (off + 64 <= full) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(packed + off / 2), bytes);
    } else {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(packed + off / 2), _mm256_castsi256_si128(bytes));
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
