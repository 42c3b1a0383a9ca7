#include "codec/rotation_kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "codec/kernels.h"
#include "codec/rotation.h"
#include "codec/synthetic.h"

namespace latentbus::codec {
namespace {

std::vector<float> RandomFloats(size_t n, uint32_t seed) {
  return GaussianTensor(1, static_cast<uint32_t>(n), seed).data;
}

bool SameBits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Widths the vector builds handle differently: below one register (the narrower build),
// one register, the model widths, odd factors up to the largest, and rows longer than
// their L1 block.
std::vector<size_t> TestWidths() {
  std::vector<size_t> widths = {1,   2,   4,    8,    16,   32,   64,    128,   256,   512,    576,
                                640, 896, 1024, 2048, 4096, 8192, 16384, 36864, 65536, 1 << 20};
  for (size_t odd = 3; odd <= Rotation::kMaxOddFactor; odd += 2) {
    for (size_t pow2 : {size_t{1}, size_t{4}, size_t{8}, size_t{16}, size_t{32}}) {
      widths.push_back(odd * pow2);
    }
  }
  widths.push_back(63 * 16384);  // the widest with the largest odd factor within kMaxWidth
  widths.push_back(3 * 8192);    // odd factor with blocks longer than L1
  // Only the block rotation takes these (odd factors above 63): tails of every size.
  for (size_t w : {65, 77, 100, 127, 130, 191, 4099, 4159}) widths.push_back(w);
  return widths;
}

constexpr RotationKind kKinds[] = {RotationKind::kHadamard, RotationKind::kHadamard64};

// The vector builds, one test instance each; a build the CPU cannot run skips.
class RotationKernelsTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    kernels_ = KernelsNamed(GetParam());
    if (kernels_ == nullptr) GTEST_SKIP() << "this CPU or build cannot run " << GetParam();
  }
  const Kernels* kernels_ = nullptr;
  const Kernels& scalar_ = ScalarKernels();
};

INSTANTIATE_TEST_SUITE_P(Builds, RotationKernelsTest, ::testing::Values("avx2", "avx512"),
                         [](const ::testing::TestParamInfo<const char*>& param) {
                           return std::string(param.param);
                         });

// A vector build reorders how the work is scheduled, never what each element computes:
// both directions agree with the reference bit for bit (the shared test vectors and the
// Python SDK need exactly that), in place and out of place.
TEST_P(RotationKernelsTest, MatchesScalarBitForBit) {
  for (RotationKind kind : kKinds) {
    for (size_t width : TestWidths()) {
      if (!Rotation::CheckWidth(width, kind).ok()) continue;
      const size_t rows = width <= 4096 ? 3 : 1;
      absl::StatusOr<Rotation> rot = Rotation::Create(width, width * 7 + 1, kind);
      ASSERT_TRUE(rot.ok()) << width << ": " << rot.status();
      const std::vector<float> x = RandomFloats(rows * width, static_cast<uint32_t>(width));
      const std::string what = absl::StrCat("width ", width, " kind ", static_cast<int>(kind));
      for (bool inverse : {false, true}) {
        std::vector<float> want(x.size()), got(x.size()), in_place = x;
        scalar_.rotate_rows(rot->plan(), x.data(), want.data(), rows, inverse);
        kernels_->rotate_rows(rot->plan(), x.data(), got.data(), rows, inverse);
        kernels_->rotate_rows(rot->plan(), in_place.data(), in_place.data(), rows, inverse);
        EXPECT_TRUE(SameBits(want, got)) << what << (inverse ? " inverse" : " forward");
        EXPECT_TRUE(SameBits(want, in_place)) << what << " in place";
      }
    }
  }
}

// The same over the whole range of magnitudes: rows whose 64-channel stretches sit
// anywhere from subnormal (every sum rounds differently there) to 2^100, with zeros.
TEST_P(RotationKernelsTest, WideMagnitudesMatchScalarBitForBit) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> stretch_exp(-160, 100), pick(0, 9);
  for (RotationKind kind : kKinds) {
    for (size_t width : {size_t{64}, size_t{77}, size_t{576}, size_t{640}, size_t{4096}}) {
      if (!Rotation::CheckWidth(width, kind).ok()) continue;
      absl::StatusOr<Rotation> rot = Rotation::Create(width, 3, kind);
      ASSERT_TRUE(rot.ok()) << width;
      const size_t rows = 4;
      std::vector<float> x = RandomFloats(rows * width, static_cast<uint32_t>(width + 1));
      int e = 0;
      for (size_t i = 0; i < x.size(); ++i) {
        if (i % 64 == 0) e = stretch_exp(rng);
        x[i] = pick(rng) == 0 ? 0.0f : std::ldexp(x[i], e);
      }
      for (bool inverse : {false, true}) {
        std::vector<float> want(x.size()), got(x.size());
        scalar_.rotate_rows(rot->plan(), x.data(), want.data(), rows, inverse);
        kernels_->rotate_rows(rot->plan(), x.data(), got.data(), rows, inverse);
        EXPECT_TRUE(SameBits(want, got)) << "width " << width << " kind " << static_cast<int>(kind)
                                         << (inverse ? " inverse" : "");
      }
    }
  }
}

TEST_P(RotationKernelsTest, RoundTrips) {
  for (RotationKind kind : kKinds) {
    for (size_t width : TestWidths()) {
      if (!Rotation::CheckWidth(width, kind).ok()) continue;
      absl::StatusOr<Rotation> rot = Rotation::Create(width, 5, kind);
      ASSERT_TRUE(rot.ok()) << width;
      const std::vector<float> x = RandomFloats(width, 3);
      std::vector<float> y(width);
      rot->Forward(x.data(), y.data(), 1, *kernels_);
      rot->Inverse(y.data(), y.data(), 1, *kernels_);
      double err = 0, norm = 0;
      for (size_t i = 0; i < width; ++i) {
        err += (static_cast<double>(y[i]) - x[i]) * (static_cast<double>(y[i]) - x[i]);
        norm += static_cast<double>(x[i]) * x[i];
      }
      EXPECT_LT(std::sqrt(err / norm), 2e-6) << width << " kind " << static_cast<int>(kind);
    }
  }
}

// x_i * s_i in double, s_i the definition's signs (rotation.h): -1 where bit i mod 64 of
// the (i / 64)-th SplitMix64 output is set.
std::vector<double> WithSigns(const std::vector<float>& x, uint64_t seed) {
  std::vector<double> out(x.size());
  uint64_t state = seed;
  uint64_t word = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    if (i % 64 == 0) word = SplitMix64(&state);
    out[i] = ((word >> (i % 64)) & 1) ? -x[i] : x[i];
  }
  return out;
}

// The reference against the definition in rotation.h evaluated in double: Q x with
// Q = (C (x) H_p) diag(s) / sqrt(p), H_p[i][j] = (-1)^popcount(i & j).
TEST(RotationReferenceTest, MatchesTheDefinitionToRounding) {
  for (size_t width : {size_t{1}, size_t{8}, size_t{24}, size_t{40}, size_t{63}, size_t{576}}) {
    const uint64_t seed = 42;
    absl::StatusOr<Rotation> rot = Rotation::Create(width, seed);
    ASSERT_TRUE(rot.ok());
    size_t pow2 = 1;
    while (width % (pow2 * 2) == 0) pow2 *= 2;
    const size_t odd = width / pow2;
    const std::vector<float> x = RandomFloats(width, 9);
    const std::vector<double> signed_x = WithSigns(x, seed);
    const double pi = std::acos(-1.0);
    std::vector<double> want(width, 0.0);
    for (size_t k = 0; k < odd; ++k) {
      for (size_t i = 0; i < pow2; ++i) {
        double sum = 0;
        for (size_t n = 0; n < odd; ++n) {
          const double c =
              std::sqrt((k == 0 ? 1.0 : 2.0) / odd) * std::cos(pi * (n + 0.5) * k / odd);
          for (size_t j = 0; j < pow2; ++j) {
            const double h = (__builtin_popcountll(i & j) & 1) ? -1.0 : 1.0;
            sum += c * h * signed_x[n * pow2 + j];
          }
        }
        want[k * pow2 + i] = sum / std::sqrt(static_cast<double>(pow2));
      }
    }
    std::vector<float> got(width);
    rot->Forward(x.data(), got.data(), 1, ScalarKernels());
    for (size_t i = 0; i < width; ++i) EXPECT_NEAR(got[i], want[i], 1e-5) << width << " @" << i;
  }
}

// The block rotation's reference against its definition in rotation.h, in double: blocks
// of 64 and the tail's binary digits, each H_b diag(s) / sqrt(b).
TEST(RotationReferenceTest, BlockRotationMatchesTheDefinitionToRounding) {
  for (size_t width : {size_t{1}, size_t{7}, size_t{64}, size_t{77}, size_t{100}, size_t{576}}) {
    const uint64_t seed = 43;
    absl::StatusOr<Rotation> rot = Rotation::Create(width, seed, RotationKind::kHadamard64);
    ASSERT_TRUE(rot.ok());
    const std::vector<float> x = RandomFloats(width, 10);
    const std::vector<double> signed_x = WithSigns(x, seed);
    // The blocks, written out: 64s, then the binary digits of the rest, largest first.
    std::vector<size_t> blocks(width / 64, 64);
    for (size_t bit = 32; bit >= 1; bit /= 2) {
      if ((width % 64) & bit) blocks.push_back(bit);
    }
    std::vector<double> want(width, 0.0);
    size_t begin = 0;
    for (size_t b : blocks) {
      for (size_t i = 0; i < b; ++i) {
        double sum = 0;
        for (size_t j = 0; j < b; ++j) {
          sum += ((__builtin_popcountll(i & j) & 1) ? -1.0 : 1.0) * signed_x[begin + j];
        }
        want[begin + i] = sum / std::sqrt(static_cast<double>(b));
      }
      begin += b;
    }
    ASSERT_EQ(begin, width);
    std::vector<float> got(width);
    rot->Forward(x.data(), got.data(), 1, ScalarKernels());
    for (size_t i = 0; i < width; ++i) EXPECT_NEAR(got[i], want[i], 1e-5) << width << " @" << i;
  }
}

// Rotation::Forward/Inverse without kernels use DefaultKernels(), so
// LATENTBUS_CODEC_KERNELS=scalar reaches the rotation too.
TEST(RotationDispatchTest, InPlaceCallsUseTheDefaultKernels) {
  absl::StatusOr<Rotation> rot = Rotation::Create(576, 3);
  ASSERT_TRUE(rot.ok());
  const std::vector<float> x = RandomFloats(2 * 576, 4);
  std::vector<float> a = x, b(x.size());
  rot->Forward(a.data(), 2);
  rot->Forward(x.data(), b.data(), 2, DefaultKernels());
  EXPECT_TRUE(SameBits(a, b));
  rot->Inverse(a.data(), 2);
  rot->Inverse(b.data(), b.data(), 2, DefaultKernels());
  EXPECT_TRUE(SameBits(a, b));
}

}  // namespace
}  // namespace latentbus::codec
