// Pieces the x86 kernel tables share (kernels_avx2.cc, kernels_avx512.cc): the int4
// layout and the scalar tail after a vector driver. Include only from files compiled with
// AVX2 or later. Not part of the codec's API. Everything here has internal linkage, so each
// file keeps the copy compiled with its own instruction set (an inline function the linker
// merged could hand the AVX2 table a copy built with AVX-512).
#ifndef LATENTBUS_CODEC_KERNELS_X86_H_
#define LATENTBUS_CODEC_KERNELS_X86_H_

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "codec/kernels.h"

namespace latentbus::codec::internal {
namespace {

// The 32 int4 values packed in 16 bytes at `packed` (element 2i in the low nibble of byte
// i), as int8 values (nibble - 8): elements 0..15 in `first`, 16..31 in `second`.
inline void UnpackNibbles32(const uint8_t* packed, __m128i* first, __m128i* second) {
  const __m128i nibble = _mm_set1_epi8(0x0f);
  const __m128i offset = _mm_set1_epi8(8);
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(packed));
  const __m128i lo = _mm_and_si128(b, nibble);
  const __m128i hi = _mm_and_si128(_mm_srli_epi16(b, 4), nibble);
  *first = _mm_sub_epi8(_mm_unpacklo_epi8(lo, hi), offset);
  *second = _mm_sub_epi8(_mm_unpackhi_epi8(lo, hi), offset);
}

// 32 bytes of values 1..15 (q + 8) in element order -> each 16-bit lane (odd << 8 | even)
// folded into (odd << 4 | even) in its low byte: what packs into the int4 layout.
inline __m256i FoldNibblePairs(__m256i v) {
  return _mm256_or_si256(_mm256_and_si256(v, _mm256_set1_epi16(0x00ff)),
                         _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi16(0x00f0)));
}

// The elements [full, n) a vector driver left (full: its whole groups), quantized by the
// scalar kernel into their places; true when there are none.
inline bool QuantizeInt8Rest(const float* x, size_t n, size_t full, size_t group, float* scales,
                             int8_t* q) {
  return full == n ||
         ScalarKernels().quantize_int8(x + full, n - full, group, &scales[full / group], q + full);
}

inline bool QuantizeInt4Rest(const float* x, size_t n, size_t full, size_t group, float* scales,
                             uint8_t* packed) {
  return full == n || ScalarKernels().quantize_int4(x + full, n - full, group,
                                                    &scales[full / group], packed + full / 2);
}

}  // namespace
}  // namespace latentbus::codec::internal

#endif  // LATENTBUS_CODEC_KERNELS_X86_H_
