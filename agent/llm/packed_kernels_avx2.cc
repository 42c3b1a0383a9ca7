// The AVX2 + FMA variant of the packed kernels (packed_kernel_variants.h). This file alone is
// compiled with -mavx2 -mfma -mf16c; ChoosePackedKernels reaches it only after checking the
// CPU.
#include "agent/llm/packed_kernel_variants.h"

#if defined(__x86_64__)
#include <immintrin.h>

namespace latentbus::agent::llm {
namespace {

inline float HorizontalSum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Eight int8 / uint8 values of `v`'s low 8 bytes as floats.
inline __m256 I8(__m128i v) { return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v)); }
inline __m256 U8(__m128i v) { return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(v)); }

// Eight 16-bit floats as floats (kF16 through F16C, kBF16 by a shift into the high half).
template <bool kF16>
inline __m256 Half8(const uint16_t* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  if constexpr (kF16) {
    return _mm256_cvtph_ps(v);
  } else {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(v), 16));
  }
}

template <bool kF16>
float RowHalf(const uint16_t* h, const float* x, size_t cols) {
  __m256 a = _mm256_setzero_ps(), b = _mm256_setzero_ps();
  for (size_t c = 0; c < cols; c += 16) {
    a = _mm256_fmadd_ps(Half8<kF16>(h + c), _mm256_loadu_ps(x + c), a);
    b = _mm256_fmadd_ps(Half8<kF16>(h + c + 8), _mm256_loadu_ps(x + c + 8), b);
  }
  return HorizontalSum(_mm256_add_ps(a, b));
}

// The eight bytes at p widened to 32-bit lanes, signed or unsigned: one vpmovsxbd /
// vpmovzxbd from memory, where widening the upper half of a loaded register would cost a
// shuffle more (the exact path is bound by these conversions).
inline __m256i Signed8(const void* p) {
  return _mm256_cvtepi8_epi32(_mm_loadl_epi64(static_cast<const __m128i*>(p)));
}
inline __m256i Unsigned8(const void* p) {
  return _mm256_cvtepu8_epi32(_mm_loadl_epi64(static_cast<const __m128i*>(p)));
}

// sum_j q[j] * x[j] over 16 int8 values, as eight partial sums.
inline __m256 Dot16(const int8_t* q, const float* x) {
  const __m256 s = _mm256_mul_ps(_mm256_cvtepi32_ps(Signed8(q)), _mm256_loadu_ps(x));
  return _mm256_fmadd_ps(_mm256_cvtepi32_ps(Signed8(q + 8)), _mm256_loadu_ps(x + 8), s);
}

float RowInt8(const int8_t* q, const float* scale, const float* x, size_t groups, size_t group) {
  __m256 acc = _mm256_setzero_ps();
  if (group == 32) {
    for (size_t g = 0; g < groups; ++g, q += 32, x += 32) {
      const __m256 s = _mm256_add_ps(Dot16(q, x), Dot16(q + 16, x + 16));
      acc = _mm256_fmadd_ps(s, _mm256_set1_ps(scale[g]), acc);
    }
  } else {  // 16
    for (size_t g = 0; g < groups; ++g, q += 16, x += 16) {
      acc = _mm256_fmadd_ps(Dot16(q, x), _mm256_set1_ps(scale[g]), acc);
    }
  }
  return HorizontalSum(acc);
}

float RowInt4(const uint8_t* q, const float* scale, const float* min, const float* x,
              const float* group_sums, size_t groups) {
  // Byte j of a group holds element j (low nibble) and element j + 16 (high nibble): the
  // nibbles are split in the 32-bit lanes after widening.
  const __m256i low4 = _mm256_set1_epi32(0x0f);
  __m256 acc = _mm256_setzero_ps();
  float offset = 0;
  for (size_t g = 0; g < groups; ++g, q += 16, x += 32) {
    const __m256i a = Unsigned8(q), b = Unsigned8(q + 8);  // bytes 0-7, 8-15
    __m256 s = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_and_si256(a, low4)), _mm256_loadu_ps(x));
    s = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(b, low4)), _mm256_loadu_ps(x + 8), s);
    s = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(a, 4)), _mm256_loadu_ps(x + 16), s);
    s = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(b, 4)), _mm256_loadu_ps(x + 24), s);
    acc = _mm256_fmadd_ps(s, _mm256_set1_ps(scale[g]), acc);
    offset += min[g] * group_sums[g];
  }
  return HorizontalSum(acc) + offset;
}

void Avx2Gemv(const PackedView& m, const float* x, const float* group_sums, float* y, size_t begin,
              size_t end) {
  const size_t cols = m.cols, groups = m.groups_per_row();
  if (IsHalfLayout(m.layout)) {
    for (size_t r = begin; r < end; ++r) {
      y[r - begin] = m.layout == PackedLayout::kF16 ? RowHalf<true>(m.h16 + r * cols, x, cols)
                                                    : RowHalf<false>(m.h16 + r * cols, x, cols);
    }
    return;
  }
  for (size_t r = begin; r < end; ++r) {
    const float* scale = m.scales + r * groups;
    y[r - begin] =
        m.layout == PackedLayout::kInt8
            ? RowInt8(m.q8 + r * cols, scale, x, groups, m.group)
            : RowInt4(m.q4 + r * cols / 2, scale, m.mins + r * groups, x, group_sums, groups);
  }
}

// Eight partial sums (as floats) of the integer products of 32 signed weights `w` and 32
// activations `x` (in [-127, 127]). maddubs multiplies unsigned by signed bytes: the
// weights' magnitudes go in as the unsigned operand and their signs move to the
// activations. A pair of products is at most 2 * 128 * 127, inside int16.
inline __m256 DotInt8x32(__m256i w, __m256i x) {
  const __m256i pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
  return _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
}

inline __m256i Load32(const void* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

float RowInt8ByInt8(const int8_t* q, const float* scale, const int8_t* xq, const float* xscales,
                    size_t groups, size_t group) {
  __m256 acc = _mm256_setzero_ps();
  if (group == 32) {
    for (size_t g = 0; g < groups; ++g, q += 32, xq += 32) {
      const __m256 d = _mm256_set1_ps(scale[g] * xscales[g]);
      acc = _mm256_fmadd_ps(DotInt8x32(Load32(q), Load32(xq)), d, acc);
    }
  } else {  // 16: two weight groups to an activation block; lanes 0-3 hold the first
    for (size_t b = 0; b < groups / 2; ++b, q += 32, xq += 32) {
      const __m256 d = _mm256_set_m128(_mm_set1_ps(scale[2 * b + 1] * xscales[b]),
                                       _mm_set1_ps(scale[2 * b] * xscales[b]));
      acc = _mm256_fmadd_ps(DotInt8x32(Load32(q), Load32(xq)), d, acc);
    }
  }
  return HorizontalSum(acc);
}

float RowInt4ByInt8(const uint8_t* q, const float* scale, const float* min, const int8_t* xq,
                    const float* xscales, const float* group_sums, size_t groups) {
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc = _mm256_setzero_ps();
  float offset = 0;
  for (size_t g = 0; g < groups; ++g, q += 16, xq += 32) {
    // Low nibbles are elements 0-15, high nibbles 16-31: one register in element order.
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
    const __m256i w = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(b, 4), b), low4);  // 0..15
    const __m256i pairs = _mm256_maddubs_epi16(w, Load32(xq));  // at most 2 * 15 * 127
    const __m256 s = _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, ones));
    acc = _mm256_fmadd_ps(s, _mm256_set1_ps(scale[g] * xscales[g]), acc);
    offset += min[g] * group_sums[g];
  }
  return HorizontalSum(acc) + offset;
}

void Avx2GemvInt8(const PackedView& m, const int8_t* xq, const float* xscales,
                  const float* group_sums, float* y, size_t begin, size_t end) {
  if (IsHalfLayout(m.layout)) {
    ScalarPackedKernels().gemv_int8(m, xq, xscales, group_sums, y, begin, end);
    return;
  }
  const size_t cols = m.cols, groups = m.groups_per_row();
  for (size_t r = begin; r < end; ++r) {
    const float* scale = m.scales + r * groups;
    y[r - begin] = m.layout == PackedLayout::kInt8
                       ? RowInt8ByInt8(m.q8 + r * cols, scale, xq, xscales, groups, m.group)
                       : RowInt4ByInt8(m.q4 + r * cols / 2, scale, m.mins + r * groups, xq, xscales,
                                       group_sums, groups);
  }
}

// Products and sums as separate instructions (no FMA): the same roundings as the scalar
// s * q + m, so the values are exact.
void Avx2Dequantize(const PackedView& m, size_t begin, size_t end, float* out) {
  const size_t n = (end - begin) * m.cols, first = begin * m.cols;
  if (IsHalfLayout(m.layout)) {
    const uint16_t* h = m.h16 + first;
    for (size_t i = 0; i < n; i += 8) {
      _mm256_storeu_ps(out + i,
                       m.layout == PackedLayout::kF16 ? Half8<true>(h + i) : Half8<false>(h + i));
    }
    return;
  }
  if (m.layout == PackedLayout::kInt8) {
    const int8_t* q = m.q8 + first;
    const float* scale = m.scales + first / m.group;
    for (size_t i = 0; i < n; i += 16) {
      const __m256 s = _mm256_set1_ps(scale[i / m.group]);
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + i));
      _mm256_storeu_ps(out + i, _mm256_mul_ps(s, I8(v)));
      _mm256_storeu_ps(out + i + 8, _mm256_mul_ps(s, I8(_mm_srli_si128(v, 8))));
    }
    return;
  }
  const __m128i low4 = _mm_set1_epi8(0x0f);
  const uint8_t* q = m.q4 + first / 2;
  for (size_t g = 0; g < n / 32; ++g, q += 16, out += 32) {
    const size_t gg = first / 32 + g;
    const __m256 s = _mm256_set1_ps(m.scales[gg]), mn = _mm256_set1_ps(m.mins[gg]);
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
    const __m128i lo = _mm_and_si128(b, low4);
    const __m128i hi = _mm_and_si128(_mm_srli_epi16(b, 4), low4);
    _mm256_storeu_ps(out, _mm256_add_ps(_mm256_mul_ps(s, U8(lo)), mn));
    _mm256_storeu_ps(out + 8, _mm256_add_ps(_mm256_mul_ps(s, U8(_mm_srli_si128(lo, 8))), mn));
    _mm256_storeu_ps(out + 16, _mm256_add_ps(_mm256_mul_ps(s, U8(hi)), mn));
    _mm256_storeu_ps(out + 24, _mm256_add_ps(_mm256_mul_ps(s, U8(_mm_srli_si128(hi, 8))), mn));
  }
}

}  // namespace

const PackedKernels* Avx2PackedKernelsIfBuilt() {
  static constexpr PackedKernels kKernels{"avx2", &Avx2Gemv, &Avx2GemvInt8, &Avx2Dequantize};
  return &kKernels;
}

}  // namespace latentbus::agent::llm

#else  // not x86-64: no AVX2 variant

namespace latentbus::agent::llm {
const PackedKernels* Avx2PackedKernelsIfBuilt() { return nullptr; }
}  // namespace latentbus::agent::llm

#endif
