#include "codec/rotation.h"

#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <numeric>
#include <vector>

#include "codec/packet.h"
#include "codec/synthetic.h"

namespace latentbus::codec {
namespace {

double Norm(const float* v, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += static_cast<double>(v[i]) * v[i];
  return std::sqrt(s);
}

TEST(RotationTest, SplitMix64KnownVector) {
  uint64_t state = 0;
  EXPECT_EQ(SplitMix64(&state), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(SplitMix64(&state), 0x6e789e6aa1b965f4ULL);
}

TEST(RotationTest, OrthogonalAndInvertibleForModelWidths) {
  for (RotationKind kind : {RotationKind::kHadamard, RotationKind::kHadamard64})
    for (uint32_t width : {1u, 2u, 3u, 8u, 12u, 576u, 640u, 768u, 896u, 2048u, 4096u}) {
      absl::StatusOr<Rotation> rot = Rotation::Create(width, 123, kind);
      ASSERT_TRUE(rot.ok()) << width << ": " << rot.status();
      Tensor t = OutlierTensor(4, width, width);
      std::vector<float> y = t.data;
      rot->Forward(y.data(), 4);
      for (size_t r = 0; r < 4; ++r) {
        const double before = Norm(t.data.data() + r * width, width);
        EXPECT_NEAR(Norm(y.data() + r * width, width) / before, 1.0, 1e-5) << width;
      }
      rot->Inverse(y.data(), 4);
      EXPECT_LT(RelativeError(t, y), 2e-6) << width;
    }
}

TEST(RotationTest, SpreadsAOneHotOverAllChannels) {
  for (uint32_t width : {576u, 640u, 4096u}) {
    absl::StatusOr<Rotation> rot = Rotation::Create(width, 9);
    ASSERT_TRUE(rot.ok());
    for (uint32_t channel : {0u, 17u, width - 1}) {
      std::vector<float> v(width, 0.0f);
      v[channel] = 1.0f;
      rot->Forward(v.data(), 1);
      float max_abs = 0;
      for (float x : v) max_abs = std::max(max_abs, std::fabs(x));
      // Entries of (DCT (x) H) are bounded by sqrt(2/m) / sqrt(p) = sqrt(2/d).
      EXPECT_LE(max_abs, std::sqrt(2.0f / static_cast<float>(width)) * 1.0001f) << width;
    }
  }
}

// The block rotation keeps a channel inside its block: a one-hot in a block of 64 becomes
// +-1/8 on those 64 channels and zero elsewhere; in a tail block of b, +-1/sqrt(b).
TEST(RotationTest, BlockRotationSpreadsAOneHotOverItsBlock) {
  const uint32_t width = 4096 + 77;  // tail blocks of 64, 8, 4 and 1
  absl::StatusOr<Rotation> rot = Rotation::Create(width, 9, RotationKind::kHadamard64);
  ASSERT_TRUE(rot.ok());
  struct Case {
    uint32_t channel, begin, size;
  };
  for (Case c : {Case{0, 0, 64}, Case{100, 64, 64}, Case{4160, 4160, 8}, Case{4170, 4168, 4},
                 Case{4172, 4172, 1}}) {
    std::vector<float> v(width, 0.0f);
    v[c.channel] = 1.0f;
    rot->Forward(v.data(), 1);
    const float want = 1.0f / std::sqrt(static_cast<float>(c.size));
    for (uint32_t i = 0; i < width; ++i) {
      const bool inside = i >= c.begin && i < c.begin + c.size;
      EXPECT_NEAR(std::fabs(v[i]), inside ? want : 0.0f, 1e-7) << c.channel << " @" << i;
    }
  }
}

TEST(RotationTest, SeedChangesTheSignsDeterministically) {
  absl::StatusOr<Rotation> a = Rotation::Create(576, 1);
  absl::StatusOr<Rotation> a2 = Rotation::Create(576, 1);
  absl::StatusOr<Rotation> b = Rotation::Create(576, 2);
  ASSERT_TRUE(a.ok() && a2.ok() && b.ok());
  Tensor t = GaussianTensor(1, 576, 5);
  std::vector<float> ya = t.data, ya2 = t.data, yb = t.data;
  a->Forward(ya.data(), 1);
  a2->Forward(ya2.data(), 1);
  b->Forward(yb.data(), 1);
  EXPECT_EQ(ya, ya2);
  EXPECT_NE(ya, yb);
}

TEST(RotationTest, RejectsUnsupportedWidths) {
  EXPECT_FALSE(Rotation::Create(0, 1).ok());
  EXPECT_FALSE(Rotation::Create(130, 1).ok());  // odd factor 65
  EXPECT_FALSE(Rotation::Create(Rotation::kMaxWidth * 2, 1).ok());
  EXPECT_TRUE(Rotation::Create(126, 1).ok());  // odd factor 63
  EXPECT_FALSE(Rotation::CheckWidth(4099).ok());
  // The block rotation takes any width in range.
  constexpr RotationKind kBlocks = RotationKind::kHadamard64;
  EXPECT_FALSE(Rotation::Create(0, 1, kBlocks).ok());
  EXPECT_FALSE(Rotation::Create(Rotation::kMaxWidth + 1, 1, kBlocks).ok());
  EXPECT_TRUE(Rotation::Create(130, 1, kBlocks).ok());
  EXPECT_TRUE(Rotation::CheckWidth(4099, kBlocks).ok());
  EXPECT_TRUE(Rotation::CheckWidth(Rotation::kMaxWidth, kBlocks).ok());
  EXPECT_FALSE(Rotation::CheckWidth(64, RotationKind::kNone).ok());
}

// What the rotations do to int4 error on data with outlier channels (4 of 576 channels
// 20x larger than the rest, as in real hidden states), per group size. Absmax scales
// let one outlier flatten every other value of its group; a rotation spreads the
// outlier's energy so its groups get a moderate scale (+rot: all groups; +rot64: the
// groups of the outlier's block of 64).
TEST(RotationTest, ReducesInt4ErrorOnOutlierChannels) {
  const Tensor t = OutlierTensor(32, 576, 11, 4, 20.0f);
  const std::vector<uint32_t> outliers = OutlierChannels(576, 11, 4);
  std::cout << "int4 relative error on [32,576] with 4 outlier channels (20x):\n";
  constexpr RotationKind kKinds[] = {RotationKind::kNone, RotationKind::kHadamard,
                                     RotationKind::kHadamard64};
  for (uint32_t group : {32u, 64u, 128u}) {
    double err[3], err_rest[3];
    for (int k = 0; k < 3; ++k) {
      Encoding e{DType::kInt4, group, kKinds[k], kDefaultRotationSeed};
      absl::StatusOr<Packet> p = Encode(t, e);
      ASSERT_TRUE(p.ok()) << p.status();
      absl::StatusOr<Tensor> back = Decode(*p);
      ASSERT_TRUE(back.ok()) << back.status();
      err[k] = RelativeError(t, back->data);
      err_rest[k] = RelativeError(t, back->data, outliers);
    }
    std::cout << "  g" << group << ": plain " << err[0] << " +rot " << err[1] << " +rot64 "
              << err[2] << " | non-outlier channels: plain " << err_rest[0] << " +rot "
              << err_rest[1] << " +rot64 " << err_rest[2] << "\n";
    for (int k = 1; k < 3; ++k) {
      EXPECT_LT(err[k], 0.75 * err[0]) << "group " << group << " kind " << k;
      EXPECT_LT(err[k], 0.12) << "group " << group << " kind " << k;
    }
  }
}

// On data without outliers the rotation neither helps nor hurts much.
TEST(RotationTest, NeutralOnGaussianData) {
  const Tensor t = GaussianTensor(32, 640, 12);
  for (RotationKind kind : {RotationKind::kHadamard, RotationKind::kHadamard64}) {
    for (uint32_t group : {32u, 128u}) {
      Encoding plain{DType::kInt4, group, RotationKind::kNone, 0};
      Encoding rotated{DType::kInt4, group, kind, 77};
      const double e0 = RelativeError(t, Decode(*Encode(t, plain))->data);
      const double e1 = RelativeError(t, Decode(*Encode(t, rotated))->data);
      EXPECT_NEAR(e1 / e0, 1.0, 0.1) << "group " << group << " kind " << static_cast<int>(kind);
    }
  }
}

}  // namespace
}  // namespace latentbus::codec
