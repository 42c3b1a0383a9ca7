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
  for (uint32_t width : {1u, 2u, 3u, 8u, 12u, 576u, 640u, 768u, 896u, 2048u, 4096u}) {
    absl::StatusOr<Rotation> rot = Rotation::Create(width, 123);
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
}

// What the rotation does to int4 error on data with outlier channels (4 of 576 channels
// 20x larger than the rest, as in real hidden states), per group size. Absmax scales
// let one outlier flatten every other value of its group; the rotation spreads the
// outlier's energy so all groups share one moderate scale.
TEST(RotationTest, ReducesInt4ErrorOnOutlierChannels) {
  const Tensor t = OutlierTensor(32, 576, 11, 4, 20.0f);
  const std::vector<uint32_t> outliers = OutlierChannels(576, 11, 4);
  std::cout << "int4 relative error on [32,576] with 4 outlier channels (20x):\n";
  for (uint32_t group : {32u, 64u, 128u}) {
    double err[2], err_rest[2];
    for (int rotate = 0; rotate < 2; ++rotate) {
      Encoding e{DType::kInt4, group, rotate ? RotationKind::kHadamard : RotationKind::kNone,
                 kDefaultRotationSeed};
      absl::StatusOr<Packet> p = Encode(t, e);
      ASSERT_TRUE(p.ok()) << p.status();
      absl::StatusOr<Tensor> back = Decode(*p);
      ASSERT_TRUE(back.ok()) << back.status();
      err[rotate] = RelativeError(t, back->data);
      err_rest[rotate] = RelativeError(t, back->data, outliers);
    }
    std::cout << "  g" << group << ": plain " << err[0] << " rotated " << err[1]
              << " | non-outlier channels: plain " << err_rest[0] << " rotated " << err_rest[1]
              << "\n";
    EXPECT_LT(err[1], 0.75 * err[0]) << "group " << group;
    EXPECT_LT(err[1], 0.12) << "group " << group;
  }
}

// On data without outliers the rotation neither helps nor hurts much.
TEST(RotationTest, NeutralOnGaussianData) {
  const Tensor t = GaussianTensor(32, 640, 12);
  for (uint32_t group : {32u, 128u}) {
    Encoding plain{DType::kInt4, group, RotationKind::kNone, 0};
    Encoding rotated{DType::kInt4, group, RotationKind::kHadamard, 77};
    const double e0 = RelativeError(t, Decode(*Encode(t, plain))->data);
    const double e1 = RelativeError(t, Decode(*Encode(t, rotated))->data);
    EXPECT_NEAR(e1 / e0, 1.0, 0.1) << "group " << group;
  }
}

}  // namespace
}  // namespace latentbus::codec
