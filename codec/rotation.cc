#include "codec/rotation.h"

#include <algorithm>
#include <cmath>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "absl/strings/str_cat.h"
#include "codec/cpu_features.h"

namespace latentbus::codec {
namespace {

// In-place unnormalised fast Walsh-Hadamard transform of n = 2^k floats (the 1/sqrt(n)
// is folded into the signs). Both versions do the same additions in the same order,
// so they produce identical bits.
void FwhtScalar(float* v, size_t n) {
  for (size_t h = 1; h < n; h *= 2) {
    for (size_t i = 0; i < n; i += 2 * h) {
      for (size_t j = i; j < i + h; ++j) {
        const float a = v[j];
        const float b = v[j + h];
        v[j] = a + b;
        v[j + h] = a - b;
      }
    }
  }
}

#if defined(__x86_64__)
// Stages h, 2h, ..., 2^(S-1) h of the transform at once on vectors 8 floats wide:
// 2^S vectors at element stride h stay in registers, so S stages cost one pass over
// memory. Each butterfly sees the same operands as in FwhtScalar.
template <int S>
__attribute__((target("avx2,fma"))) inline void FwhtStagesAvx2(float* v, size_t n, size_t h) {
  constexpr int kCount = 1 << S;
  const size_t span = h << S;
  for (size_t base = 0; base < n; base += span) {
    for (size_t j = base; j < base + h; j += 8) {
      __m256 r[kCount];
      for (int t = 0; t < kCount; ++t) r[t] = _mm256_loadu_ps(v + j + t * h);
      for (int step = 1; step < kCount; step *= 2) {
        for (int t = 0; t < kCount; ++t) {
          if (t & step) continue;
          const __m256 a = r[t];
          const __m256 b = r[t + step];
          r[t] = _mm256_add_ps(a, b);
          r[t + step] = _mm256_sub_ps(a, b);
        }
      }
      for (int t = 0; t < kCount; ++t) _mm256_storeu_ps(v + j + t * h, r[t]);
    }
  }
}

// n % 8 == 0. The first three stages run inside one register (multiplying by +-1 in
// the FMA is exact, so x * s + y equals y + x or y - x); the rest three at a time.
__attribute__((target("avx2,fma"))) void FwhtAvx2(float* v, size_t n) {
  const __m256 s1 = _mm256_setr_ps(1, -1, 1, -1, 1, -1, 1, -1);
  const __m256 s2 = _mm256_setr_ps(1, 1, -1, -1, 1, 1, -1, -1);
  const __m256 s4 = _mm256_setr_ps(1, 1, 1, 1, -1, -1, -1, -1);
  for (size_t i = 0; i < n; i += 8) {
    __m256 x = _mm256_loadu_ps(v + i);
    x = _mm256_fmadd_ps(x, s1, _mm256_permute_ps(x, 0xb1));
    x = _mm256_fmadd_ps(x, s2, _mm256_permute_ps(x, 0x4e));
    x = _mm256_fmadd_ps(x, s4, _mm256_permute2f128_ps(x, x, 1));
    _mm256_storeu_ps(v + i, x);
  }
  for (size_t h = 8; h < n;) {
    if (h * 8 <= n) {
      FwhtStagesAvx2<3>(v, n, h);
      h *= 8;
    } else if (h * 4 <= n) {
      FwhtStagesAvx2<2>(v, n, h);
      h *= 4;
    } else {
      FwhtStagesAvx2<1>(v, n, h);
      h *= 2;
    }
  }
}

#endif

// out[k] = sum_n c(k, n) * in[n] over blocks of `len` floats; the loop over j is the
// one compilers vectorise.
template <typename Coef>
inline void MixRows(const float* in, float* out, size_t odd, size_t len, Coef c) {
  for (size_t k = 0; k < odd; ++k) {
    float* o = out + k * len;
    for (size_t j = 0; j < len; ++j) o[j] = 0.0f;
    for (size_t n = 0; n < odd; ++n) {
      const float w = c(k, n);
      const float* x = in + n * len;
      for (size_t j = 0; j < len; ++j) o[j] += w * x[j];
    }
  }
}

void MixRowsPortable(const float* in, float* out, size_t odd, size_t len, const float* c,
                     bool transpose) {
  if (transpose)
    return MixRows(in, out, odd, len, [=](size_t k, size_t n) { return c[n * odd + k]; });
  MixRows(in, out, odd, len, [=](size_t k, size_t n) { return c[k * odd + n]; });
}

#if defined(__x86_64__)
// The same loops compiled for AVX2 (multiply then add: no contraction into FMA).
__attribute__((target("avx2"))) void MixRowsAvx2(const float* in, float* out, size_t odd,
                                                 size_t len, const float* c, bool transpose) {
  if (transpose)
    return MixRows(in, out, odd, len, [=](size_t k, size_t n) { return c[n * odd + k]; });
  MixRows(in, out, odd, len, [=](size_t k, size_t n) { return c[k * odd + n]; });
}
#endif

void Mix(const float* in, float* out, size_t odd, size_t len, const float* c, bool transpose) {
#if defined(__x86_64__)
  if (CpuHasAvx2()) return MixRowsAvx2(in, out, odd, len, c, transpose);
#endif
  MixRowsPortable(in, out, odd, len, c, transpose);
}

void Fwht(float* v, size_t n) {
#if defined(__x86_64__)
  if (n >= 8 && CpuHasAvx2()) return FwhtAvx2(v, n);
#endif
  FwhtScalar(v, n);
}

}  // namespace

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

absl::Status Rotation::CheckWidth(size_t width) {
  if (width == 0 || width > kMaxWidth) {
    return absl::InvalidArgumentError(
        absl::StrCat("rotation width must be in [1, ", kMaxWidth, "], got ", width));
  }
  const size_t odd = width / PowerOfTwoFactor(width);
  if (odd > kMaxOddFactor) {
    return absl::InvalidArgumentError(absl::StrCat(
        "rotation unsupported for width ", width, ": its odd factor ", odd, " exceeds ",
        kMaxOddFactor, " (use a width 2^k * m with m <= ", kMaxOddFactor, ", or no rotation)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Rotation> Rotation::Create(size_t width, uint64_t seed) {
  if (absl::Status s = CheckWidth(width); !s.ok()) return s;
  const size_t pow2 = PowerOfTwoFactor(width);
  const size_t odd = width / pow2;
  // The signs carry the Hadamard normalisation 1/sqrt(p).
  const float norm = static_cast<float>(1.0 / std::sqrt(static_cast<double>(pow2)));
  std::vector<float> signs(width);
  uint64_t state = seed;
  uint64_t word = 0;
  for (size_t i = 0; i < width; ++i) {
    if (i % 64 == 0) word = SplitMix64(&state);
    signs[i] = ((word >> (i % 64)) & 1) ? -norm : norm;
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
  return Rotation(width, pow2, odd, std::move(signs), std::move(dct));
}

Rotation::Rotation(size_t width, size_t pow2, size_t odd, std::vector<float> signs,
                   std::vector<float> dct)
    : width_(width), pow2_(pow2), odd_(odd), signs_(std::move(signs)), dct_(std::move(dct)) {}

// row <- C row (transpose=false) or C^T row, viewing row as odd_ x pow2_.
void Rotation::MixBlocks(float* row, float* scratch, bool transpose) const {
  Mix(row, scratch, odd_, pow2_, dct_.data(), transpose);
  std::copy(scratch, scratch + width_, row);
}

void Rotation::Forward(float* data, size_t rows) const {
  std::vector<float> scratch(odd_ > 1 ? width_ : 0);
  for (size_t r = 0; r < rows; ++r) {
    float* row = data + r * width_;
    for (size_t i = 0; i < width_; ++i) row[i] *= signs_[i];
    for (size_t b = 0; b < odd_; ++b) Fwht(row + b * pow2_, pow2_);
    if (odd_ > 1) MixBlocks(row, scratch.data(), /*transpose=*/false);
  }
}

void Rotation::Inverse(float* data, size_t rows) const {
  std::vector<float> scratch(odd_ > 1 ? width_ : 0);
  for (size_t r = 0; r < rows; ++r) {
    float* row = data + r * width_;
    if (odd_ > 1) MixBlocks(row, scratch.data(), /*transpose=*/true);
    for (size_t b = 0; b < odd_; ++b) Fwht(row + b * pow2_, pow2_);
    for (size_t i = 0; i < width_; ++i) row[i] *= signs_[i];
  }
}

}  // namespace latentbus::codec
