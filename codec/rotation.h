// Randomized Hadamard rotation of vectors of any width whose odd factor is small.
//
// LLM hidden states carry a few outlier channels that are orders of magnitude larger
// than the rest; with absmax quantization they inflate the scale of every group they
// fall in. An orthogonal rotation before quantization spreads their energy over all
// channels; the receiver applies the inverse after dequantizing.
//
// Definition of RotationKind::kHadamard, "+rot" (the contract any other implementation
// follows). Width d = p * m with p = 2^k the largest power of two dividing d and m odd,
// m <= kMaxOddFactor.
//   1. Signs: s_i = -1 if bit (i mod 64) of w_(i / 64) is set, else +1, where w_j is the
//      j-th output of SplitMix64 seeded with the rotation seed.
//   2. y = x * s (elementwise); view y as an m x p row-major matrix Y.
//   3. Each row of Y: Walsh-Hadamard transform (Sylvester order) divided by sqrt(p)
//      (implementations may fold the division into the signs).
//   4. Y <- C Y with C the m x m orthonormal DCT-II matrix
//      C[k][n] = sqrt((k == 0 ? 1 : 2) / m) * cos(pi * (n + 0.5) * k / m).
// The result is Q x with Q = (C (x) H_p) diag(s), an orthogonal matrix; the inverse
// applies C^T, the Hadamard again, then the signs. Floating-point rounding makes the
// round trip exact only to about 1e-6 relative, and another implementation of this
// definition agrees with this one to rounding, not bit for bit.
//
// Definition of RotationKind::kHadamard64, "+rot64": any width 1 <= d <= kMaxWidth.
//   1. Blocks: channels [64 j, 64 j + 64) for j < d / 64; the last d mod 64 channels form
//      blocks by the binary digits of d mod 64, largest first (d = 77: 64, 8, 4, 1).
//   2. Signs s_i as above; c_i = s_i / sqrt(b), b the size of channel i's block, rounded
//      to fp32 (exact for b = 64: +-0.125).
//   3. Each block: y = x * c (elementwise), then the unnormalised Walsh-Hadamard
//      transform of the block, stage by stage, h = 1, 2, 4, ...: v[j], v[j + h] <-
//      v[j] + v[j + h], v[j] - v[j + h].
// The inverse runs the same stages on each block, then multiplies by c. An outlier
// channel spreads over its block only (two int4/g32 groups), not the whole row: on
// Gaussian data with outlier channels the int4 error is lower than with "+rot", and a
// 4096-wide row needs 6 stages instead of 12 (docs/CODEC.md).
//
// Implementations: a portable reference, an AVX2 and an AVX-512 build
// (codec/rotation_kernels.h), chosen like the other codec kernels (Kernels::rotate_rows,
// DefaultKernels, which LATENTBUS_CODEC_KERNELS=scalar forces to the reference); all agree
// bit for bit.
//
// Thread safety: a Rotation is immutable after Create; Forward/Inverse are safe to
// call concurrently.
#ifndef LATENTBUS_CODEC_ROTATION_H_
#define LATENTBUS_CODEC_ROTATION_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "codec/encoding.h"
#include "codec/kernels.h"
#include "codec/rotation_kernels.h"

namespace latentbus::codec {

class Rotation {
 public:
  // Largest odd factor of the width supported (the DCT stage costs m flops/element).
  static constexpr size_t kMaxOddFactor = 63;
  static constexpr size_t kMaxWidth = size_t{1} << 20;

  // Channels per block of kHadamard64.
  static constexpr size_t kBlock64 = 64;

  // Fails with InvalidArgument when the kind is kNone or unknown, the width is 0 or too
  // large, or (kHadamard) its odd factor exceeds kMaxOddFactor.
  static absl::StatusOr<Rotation> Create(size_t width, uint64_t seed,
                                         RotationKind kind = RotationKind::kHadamard);

  // The check Create makes on the width, without building anything.
  static absl::Status CheckWidth(size_t width, RotationKind kind = RotationKind::kHadamard);

  size_t width() const { return width_; }
  uint64_t seed() const { return seed_; }
  RotationKind kind() const { return kind_; }

  // Rotate / unrotate `rows` contiguous rows of width() floats in place, with
  // DefaultKernels().
  void Forward(float* data, size_t rows) const;
  void Inverse(float* data, size_t rows) const;

  // The same from `in` into `out` (in == out allowed, no other overlap) with the given
  // kernels' implementation.
  void Forward(const float* in, float* out, size_t rows, const Kernels& kernels) const;
  void Inverse(const float* in, float* out, size_t rows, const Kernels& kernels) const;

  // What the row kernels need; points into this Rotation.
  RotationPlan plan() const;

 private:
  Rotation(size_t width, uint64_t seed, RotationKind kind, size_t pow2, size_t odd,
           std::vector<float> signs, std::vector<float> dct);

  size_t width_;
  uint64_t seed_;
  RotationKind kind_;
  size_t pow2_;               // kHadamard only
  size_t odd_;                // kHadamard only
  std::vector<float> signs_;  // +-1/sqrt(size of the channel's Hadamard block)
  std::vector<float> dct_;    // odd_ x odd_, row-major
};

// One step of SplitMix64 (exposed for tests and other implementations).
uint64_t SplitMix64(uint64_t* state);

}  // namespace latentbus::codec

#endif  // LATENTBUS_CODEC_ROTATION_H_
