#include "codec/rotation.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "codec/rotation_kernels.h"

namespace latentbus::codec {

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

namespace {
size_t PowerOfTwoFactor(size_t width) {
  size_t pow2 = 1;
  while (width % (pow2 * 2) == 0) pow2 *= 2;
  return pow2;
}
}  // namespace

absl::Status Rotation::CheckWidth(size_t width, RotationKind kind) {
  if (kind != RotationKind::kHadamard && kind != RotationKind::kHadamard64) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a rotation kind: ", static_cast<uint32_t>(kind)));
  }
  if (width == 0 || width > kMaxWidth) {
    return absl::InvalidArgumentError(
        absl::StrCat("rotation width must be in [1, ", kMaxWidth, "], got ", width));
  }
  if (kind == RotationKind::kHadamard64) return absl::OkStatus();
  const size_t odd = width / PowerOfTwoFactor(width);
  if (odd > kMaxOddFactor) {
    return absl::InvalidArgumentError(absl::StrCat(
        "rotation unsupported for width ", width, ": its odd factor ", odd, " exceeds ",
        kMaxOddFactor, " (use a width 2^k * m with m <= ", kMaxOddFactor, ", or no rotation)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Rotation> Rotation::Create(size_t width, uint64_t seed, RotationKind kind) {
  if (absl::Status s = CheckWidth(width, kind); !s.ok()) return s;
  const bool blocks = kind == RotationKind::kHadamard64;
  const size_t pow2 = blocks ? 0 : PowerOfTwoFactor(width);
  const size_t odd = blocks ? 0 : width / pow2;
  // The signs carry the Hadamard normalisation 1/sqrt(size of the channel's block).
  const auto norm = [](size_t block) {
    return static_cast<float>(1.0 / std::sqrt(static_cast<double>(block)));
  };
  std::vector<float> signs(width);
  size_t begin = 0;  // of the current block
  size_t block = blocks ? internal::BlockAt(width, 0, kBlock64) : pow2;
  float scale = norm(block);
  uint64_t state = seed;
  uint64_t word = 0;
  for (size_t i = 0; i < width; ++i) {
    if (i % 64 == 0) word = SplitMix64(&state);
    if (blocks && i == begin + block) {
      begin = i;
      block = internal::BlockAt(width, begin, kBlock64);
      scale = norm(block);
    }
    signs[i] = ((word >> (i % 64)) & 1) ? -scale : scale;
  }
  std::vector<float> dct;
  if (odd > 1) {
    dct.resize(odd * odd);
    const double pi = std::acos(-1.0);
    for (size_t k = 0; k < odd; ++k) {
      const double a = std::sqrt((k == 0 ? 1.0 : 2.0) / static_cast<double>(odd));
      for (size_t n = 0; n < odd; ++n) {
        dct[k * odd + n] =
            static_cast<float>(a * std::cos(pi * (static_cast<double>(n) + 0.5) *
                                            static_cast<double>(k) / static_cast<double>(odd)));
      }
    }
  }
  return Rotation(width, seed, kind, pow2, odd, std::move(signs), std::move(dct));
}

Rotation::Rotation(size_t width, uint64_t seed, RotationKind kind, size_t pow2, size_t odd,
                   std::vector<float> signs, std::vector<float> dct)
    : width_(width),
      seed_(seed),
      kind_(kind),
      pow2_(pow2),
      odd_(odd),
      signs_(std::move(signs)),
      dct_(std::move(dct)) {}

RotationPlan Rotation::plan() const {
  return RotationPlan{width_,
                      pow2_,
                      odd_,
                      signs_.data(),
                      dct_.empty() ? nullptr : dct_.data(),
                      kind_ == RotationKind::kHadamard64 ? kBlock64 : 0};
}

void Rotation::Forward(float* data, size_t rows) const {
  Forward(data, data, rows, DefaultKernels());
}

void Rotation::Inverse(float* data, size_t rows) const {
  Inverse(data, data, rows, DefaultKernels());
}

void Rotation::Forward(const float* in, float* out, size_t rows, const Kernels& kernels) const {
  kernels.rotate_rows(plan(), in, out, rows, /*inverse=*/false);
}

void Rotation::Inverse(const float* in, float* out, size_t rows, const Kernels& kernels) const {
  kernels.rotate_rows(plan(), in, out, rows, /*inverse=*/true);
}

}  // namespace latentbus::codec
