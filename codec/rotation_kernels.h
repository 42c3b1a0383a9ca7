// The row transforms behind Rotation (codec/rotation.h): a portable reference, an AVX2
// and an AVX-512 build, reached through Kernels::rotate_rows. Not part of the codec's API.
//
// All perform the same fp32 operations on every element in the same order (butterflies
// a + b and a - b in Sylvester stage order; the DCT as acc = 0, then acc = acc + c * x
// for n = 0, 1, ..., multiply then add, never fused), so their results are identical bit
// for bit. The shared test vectors and the Python SDK rely on that.
#ifndef LATENTBUS_CODEC_ROTATION_KERNELS_H_
#define LATENTBUS_CODEC_ROTATION_KERNELS_H_

#include <cstddef>

namespace latentbus::codec {

// A rotation of one width, ready to apply. block == 0: the whole-row transform
// (RotationKind::kHadamard), width = pow2 * odd. block == 64: independent transforms on
// blocks of 64 channels and the tail's power-of-two blocks (RotationKind::kHadamard64);
// pow2, odd and dct unused.
struct RotationPlan {
  size_t width;
  size_t pow2;
  size_t odd;
  const float* signs;  // width entries, +-1/sqrt(size of the channel's Hadamard block)
  const float* dct;    // odd x odd, row-major; unused when odd == 1
  size_t block = 0;
};

namespace internal {

// The size of the block of a block plan that starts at channel `begin` < width: 64, or
// in the last width mod 64 channels the largest power of two that fits.
inline size_t BlockAt(size_t width, size_t begin, size_t block = 64) {
  const size_t rest = width - begin;
  if (rest >= block) return block;
  size_t b = 1;
  while (b * 2 <= rest) b *= 2;
  return b;
}

// Rotates (inverse == false) or unrotates `rows` rows of plan.width floats from `in` into
// `out`. `in` may equal `out`; no other overlap is allowed. Thread-safe.
void RotateRowsScalar(const RotationPlan& plan, const float* in, float* out, size_t rows,
                      bool inverse);

// RotateRowsScalar restricted to the channels [begin, width) of a block plan (begin a
// multiple of 64): what the vector kernels leave of each row. Thread-safe.
void RotateBlockTailsScalar(const RotationPlan& plan, size_t begin, const float* in, float* out,
                            size_t rows, bool inverse);

// A per-thread buffer of at least `floats` floats for the kernels' intermediate row,
// valid until the next call on the same thread.
float* RotationScratch(size_t floats);

#if defined(LATENTBUS_HAVE_AVX2)
// The same with AVX2 and FMA (rotation_avx2.cc); the caller has checked the CPU.
void RotateRowsAvx2(const RotationPlan& plan, const float* in, float* out, size_t rows,
                    bool inverse);
#endif

#if defined(LATENTBUS_HAVE_AVX512)
// The same with AVX-512 F (rotation_avx512.cc); the caller has checked the CPU for
// AVX-512 F/BW/DQ/VL and AVX2.
void RotateRowsAvx512(const RotationPlan& plan, const float* in, float* out, size_t rows,
                      bool inverse);
#endif

}  // namespace internal
}  // namespace latentbus::codec

#endif  // LATENTBUS_CODEC_ROTATION_KERNELS_H_
