#include "codec/packet.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "codec/rotation.h"
#include "codec/synthetic.h"

namespace latentbus::codec {
namespace {

using ::testing::HasSubstr;

Encoding Enc(DType dtype, uint32_t group = 0, bool rotate = false) {
  return Encoding{dtype, group, rotate ? RotationKind::kHadamard : RotationKind::kNone,
                  kDefaultRotationSeed};
}

Encoding Blocks(DType dtype, uint32_t group = 0) {
  return Encoding{dtype, group, RotationKind::kHadamard64, kDefaultRotationSeed};
}

struct Bound {
  Encoding encoding;
  double gaussian;  // max relative L2 error on N(0, 1) data
  double outlier;   // max relative L2 error on outlier-channel data
};

// Bounds sit ~25% above what this codec measures (quantization noise of a uniform
// quantizer over absmax groups), so a regression in rounding or scaling trips them.
const Bound kBounds[] = {
    {Enc(DType::kFp32), 0.0, 0.0},
    {Enc(DType::kFp16), 2.6e-4, 2.6e-4},
    {Enc(DType::kBf16), 2.1e-3, 2.1e-3},
    {Enc(DType::kInt8, 32), 0.0066, 0.0135},
    {Enc(DType::kInt8, 64), 0.0073, 0.019},
    {Enc(DType::kInt8, 128), 0.008, 0.026},
    {Enc(DType::kInt4, 32), 0.12, 0.19},
    {Enc(DType::kInt4, 64), 0.133, 0.26},
    {Enc(DType::kInt4, 128), 0.144, 0.35},
    {Enc(DType::kInt4, 32, true), 0.122, 0.104},
    {Enc(DType::kInt4, 128, true), 0.146, 0.127},
    {Enc(DType::kInt8, 32, true), 0.0067, 0.0057},
    {Blocks(DType::kInt4, 32), 0.121, 0.092},
    {Blocks(DType::kInt4, 128), 0.146, 0.12},
    {Blocks(DType::kInt8, 32), 0.0067, 0.0051},
};

TEST(PacketTest, RoundTripErrorBoundsPerEncoding) {
  const Tensor gaussian = GaussianTensor(32, 576, 1);
  const Tensor outlier = OutlierTensor(32, 576, 2);
  for (const Bound& b : kBounds) {
    for (const Tensor* t : {&gaussian, &outlier}) {
      absl::StatusOr<Packet> p = Encode(*t, b.encoding);
      ASSERT_TRUE(p.ok()) << EncodingName(b.encoding) << ": " << p.status();
      absl::StatusOr<Tensor> back = Decode(*p);
      ASSERT_TRUE(back.ok()) << EncodingName(b.encoding) << ": " << back.status();
      ASSERT_EQ(back->shape, t->shape);
      const double err = RelativeError(*t, back->data);
      const double bound = t == &gaussian ? b.gaussian : b.outlier;
      EXPECT_LE(err, bound) << EncodingName(b.encoding)
                            << (t == &gaussian ? " gaussian" : " outliers");
    }
  }
}

// Each element is within half a quantization step of the original.
TEST(PacketTest, IntElementsWithinHalfAStep) {
  const Tensor t = OutlierTensor(8, 640, 3);
  for (const Encoding& e : {Enc(DType::kInt8, 64), Enc(DType::kInt4, 32)}) {
    absl::StatusOr<Packet> p = Encode(t, e);
    ASSERT_TRUE(p.ok());
    absl::StatusOr<Tensor> back = Decode(*p);
    ASSERT_TRUE(back.ok());
    for (size_t i = 0; i < t.data.size(); ++i) {
      float scale;
      std::memcpy(&scale, p->scales.data() + (i / e.group_size) * 4, 4);
      ASSERT_LE(std::fabs(t.data[i] - back->data[i]), 0.5f * scale * 1.0001f + 1e-7f)
          << EncodingName(e) << " element " << i;
    }
  }
}

TEST(PacketTest, WireSizes) {
  const Tensor t = GaussianTensor(32, 576, 4);
  absl::StatusOr<Packet> p = Encode(t, Enc(DType::kInt4, 32));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->payload.size(), 32u * 576 / 2);
  EXPECT_EQ(p->scales.size(), 32u * 576 / 32 * 4);
  p = Encode(t, Enc(DType::kFp16));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->payload.size(), 32u * 576 * 2);
  EXPECT_TRUE(p->scales.empty());
}

TEST(PacketTest, RaggedGroupsAndOddLengths) {
  for (uint32_t width : {7u, 33u, 100u, 576u}) {
    const Tensor t = GaussianTensor(3, width, width);
    for (const Encoding& e : {Enc(DType::kInt4, 128), Enc(DType::kInt8, 64)}) {
      absl::StatusOr<Packet> p = Encode(t, e);
      ASSERT_TRUE(p.ok()) << p.status();
      absl::StatusOr<Tensor> back = Decode(*p);
      ASSERT_TRUE(back.ok()) << back.status();
      EXPECT_LT(RelativeError(t, back->data), 0.2) << width << " " << EncodingName(e);
    }
  }
}

TEST(PacketTest, EncodeRejectsBadInputWithClearErrors) {
  Tensor t = GaussianTensor(4, 64, 5);
  t.data[70] = std::numeric_limits<float>::quiet_NaN();
  absl::StatusOr<Packet> p = Encode(t, Enc(DType::kInt4, 32));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("element 70"));

  t = GaussianTensor(4, 64, 5);
  t.data[3] = 1e6f;
  p = Encode(t, Enc(DType::kFp16));
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("fp16 range"));
  EXPECT_TRUE(Encode(t, Enc(DType::kBf16)).ok());
  EXPECT_TRUE(Encode(t, Enc(DType::kInt8, 32)).ok());
  t.data[5] = 3e37f;  // finite, but its scale would exceed 2^120
  p = Encode(t, Enc(DType::kInt4, 32));
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("element 5"));

  t = GaussianTensor(4, 64, 5);
  t.shape = {4, 65};
  EXPECT_FALSE(Encode(t, Enc(DType::kInt8, 32)).ok());
  t.shape = {};
  EXPECT_FALSE(Encode(t, Enc(DType::kInt8, 32)).ok());
  t.shape = {4, 0, 64};
  EXPECT_FALSE(Encode(t, Enc(DType::kInt8, 32)).ok());
  t.shape = {4, 64};
  EXPECT_FALSE(Encode(t, Enc(DType::kInt8, 48)).ok());

  Tensor odd = GaussianTensor(2, 130, 6);  // odd factor 65: no rotation
  p = Encode(odd, Enc(DType::kInt4, 32, true));
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("odd factor"));
}

class CorruptPacketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<Packet> p = Encode(GaussianTensor(4, 64, 8), Enc(DType::kInt4, 32));
    ASSERT_TRUE(p.ok());
    good_ = *p;
  }
  // Re-seals the checksum so that the check under test, not the checksum, must fire.
  static Packet Resealed(Packet p) {
    p.checksum = ComputeChecksum(p);
    return p;
  }
  static void ExpectInvalid(const Packet& p, const std::string& fragment) {
    absl::StatusOr<Tensor> t = Decode(p);
    ASSERT_FALSE(t.ok()) << "accepted a packet that should fail with: " << fragment;
    EXPECT_THAT(std::string(t.status().message()), HasSubstr(fragment));
    std::vector<float> out(256);
    EXPECT_FALSE(DecodeInto(p, absl::MakeSpan(out)).ok());
  }
  Packet good_;
};

TEST_F(CorruptPacketTest, GoodPacketDecodes) { EXPECT_TRUE(Decode(good_).ok()); }

TEST_F(CorruptPacketTest, FlippedPayloadBitFailsChecksum) {
  Packet p = good_;
  p.payload[10] ^= 0x04;
  absl::StatusOr<Tensor> t = Decode(p);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kDataLoss);
  p = good_;
  p.scales[1] ^= 0x01;
  EXPECT_EQ(Decode(p).status().code(), absl::StatusCode::kDataLoss);
  p = good_;
  p.encoding.rotation_seed ^= 1;  // header fields are covered too
  EXPECT_EQ(Decode(p).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(CorruptPacketTest, LengthAndShapeMismatches) {
  Packet p = good_;
  p.payload.pop_back();
  ExpectInvalid(Resealed(p), "payload is 127 bytes");
  p = good_;
  p.scales.append("abcd");
  ExpectInvalid(Resealed(p), "scales are");
  p = good_;
  p.shape = {4, 65};
  ExpectInvalid(Resealed(p), "payload is");
  p = good_;
  p.shape = {};
  ExpectInvalid(Resealed(p), "dims");
  p = good_;
  p.shape = {1, 1, 1, 1, 256};
  ExpectInvalid(Resealed(p), "dims");
  p = good_;
  p.shape = {4, 0};
  ExpectInvalid(Resealed(p), "zero dim");
  p = good_;
  p.shape = {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu};  // would overflow size_t
  ExpectInvalid(Resealed(p), "limit");
}

TEST_F(CorruptPacketTest, BadHeaderValues) {
  Packet p = good_;
  p.format_version = 2;
  ExpectInvalid(Resealed(p), "format version 2");
  p = good_;
  p.encoding.dtype = static_cast<DType>(42);
  ExpectInvalid(Resealed(p), "unknown dtype");
  p = good_;
  p.encoding.group_size = 16;
  ExpectInvalid(Resealed(p), "group size");
  p = good_;
  p.encoding.rotation = static_cast<RotationKind>(3);
  ExpectInvalid(Resealed(p), "unknown rotation");
}

TEST_F(CorruptPacketTest, NonFiniteOrNegativeScales) {
  for (float bad :
       {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(), -1.0f}) {
    Packet p = good_;
    std::memcpy(p.scales.data() + 4, &bad, 4);
    ExpectInvalid(Resealed(p), "scale 1");
  }
}

TEST_F(CorruptPacketTest, NonFiniteFloatPayload) {
  absl::StatusOr<Packet> p = Encode(GaussianTensor(2, 16, 9), Enc(DType::kFp16));
  ASSERT_TRUE(p.ok());
  p->payload[6] = 0x00;
  p->payload[7] = 0x7c;  // +inf
  ExpectInvalid(Resealed(*p), "non-finite fp16");
  p = Encode(GaussianTensor(2, 16, 9), Enc(DType::kFp32));
  ASSERT_TRUE(p.ok());
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(p->payload.data() + 8, &nan, 4);
  ExpectInvalid(Resealed(*p), "non-finite fp32");
}

TEST_F(CorruptPacketTest, OverflowInInverseRotationIsRefused) {
  absl::StatusOr<Packet> p = Encode(GaussianTensor(1, 64, 9), Enc(DType::kFp32, 0, true));
  ASSERT_TRUE(p.ok());
  const float big = 3e38f;  // finite on its own; sums in the inverse transform overflow
  for (int i = 0; i < 64; ++i) std::memcpy(p->payload.data() + 4 * i, &big, 4);
  ExpectInvalid(Resealed(*p), "inverse rotation");
}

// Quantized payloads skip the overflow scan when their largest scale rules it out; at the
// largest legal scale the scan runs and catches the overflow, whichever dtype and plan.
TEST_F(CorruptPacketTest, OverflowFromLargeScalesIsRefused) {
  const float huge = std::ldexp(1.0f, 120);  // the largest scale a packet may carry
  for (const Encoding& e : {Enc(DType::kInt8, 32, true), Blocks(DType::kInt8, 32),
                            Enc(DType::kInt4, 32, true), Blocks(DType::kInt4, 32)}) {
    absl::StatusOr<Packet> p = Encode(GaussianTensor(2, 64, 9), e);
    ASSERT_TRUE(p.ok());
    // Every element at the most negative level: -128 (int8), nibble 0 = -8 (int4).
    std::fill(p->payload.begin(), p->payload.end(), e.dtype == DType::kInt8 ? '\x80' : '\0');
    for (size_t i = 0; i < p->scales.size(); i += 4) std::memcpy(p->scales.data() + i, &huge, 4);
    ExpectInvalid(Resealed(*p), "inverse rotation");
    // A -0 scale (legal) beside them must not hide them from the check.
    const float negative_zero = -0.0f;
    std::memcpy(p->scales.data() + 4, &negative_zero, 4);
    ExpectInvalid(Resealed(*p), "inverse rotation");
    // 2^100 leaves room: the same payload decodes, to finite values of the right size.
    const float large = std::ldexp(1.0f, 100);
    for (size_t i = 0; i < p->scales.size(); i += 4) std::memcpy(p->scales.data() + i, &large, 4);
    absl::StatusOr<Tensor> back = Decode(Resealed(*p));
    ASSERT_TRUE(back.ok()) << EncodingName(e) << ": " << back.status();
    for (float v : back->data) {
      ASSERT_TRUE(std::isfinite(v));
      ASSERT_LE(std::abs(v), 8 * 128 * large);
    }
  }
}

TEST_F(CorruptPacketTest, LimitsAndBufferSize) {
  DecodeLimits tight;
  tight.max_elements = 100;
  absl::Status s = ValidatePacket(good_, tight);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("100-element limit"));
  std::vector<float> small(10);
  s = DecodeInto(good_, absl::MakeSpan(small));
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("buffer"));
}

TEST(PacketTest, EncodeIntoReusesBuffersAcrossSizes) {
  Packet p;
  const Tensor big = GaussianTensor(64, 576, 10);
  const Tensor small = GaussianTensor(2, 64, 11);
  ASSERT_TRUE(EncodeInto(big.data, big.shape, Enc(DType::kInt8, 32), &p).ok());
  p.model_id = "kept";
  ASSERT_TRUE(EncodeInto(small.data, small.shape, Enc(DType::kInt4, 64), &p).ok());
  EXPECT_EQ(p.model_id, "kept");
  EXPECT_EQ(p.payload.size(), 64u);
  EXPECT_EQ(p.scales.size(), 8u);
  absl::StatusOr<Tensor> back = Decode(p);
  ASSERT_TRUE(back.ok());
  EXPECT_LT(RelativeError(small, back->data), 0.15);
}

TEST(PacketTest, ScalarAndVectorKernelsProduceTheSamePacket) {
  if (Avx2Kernels() == nullptr) GTEST_SKIP() << "CPU or build without AVX2/FMA/F16C";
  const Tensor t = OutlierTensor(16, 640, 12);
  for (const Kernels* vec : {Avx2Kernels(), Avx512Kernels()}) {
    if (vec == nullptr) continue;
    for (const Encoding& e :
         {Enc(DType::kInt4, 32, true), Enc(DType::kInt8, 128), Enc(DType::kFp16), Enc(DType::kBf16),
          Blocks(DType::kInt4, 32), Blocks(DType::kFp32)}) {
      Packet a, b;
      ASSERT_TRUE(EncodeInto(t.data, t.shape, e, &a, &ScalarKernels()).ok());
      ASSERT_TRUE(EncodeInto(t.data, t.shape, e, &b, vec).ok());
      EXPECT_EQ(a.payload, b.payload) << vec->name << " " << EncodingName(e);
      EXPECT_EQ(a.scales, b.scales) << vec->name << " " << EncodingName(e);
      EXPECT_EQ(a.checksum, b.checksum) << vec->name << " " << EncodingName(e);
    }
  }
}

// Rotated tensors are encoded and decoded a slice of rows at a time; the packet must be
// the one a whole-tensor rotation followed by plain encoding gives, whatever the width,
// group and row count (slices that end inside a row of groups, many slices, one row).
TEST(PacketTest, RotatedSlicesEqualTheWholeTensorRotation) {
  struct Case {
    uint32_t rows, width;
    Encoding e;
  };
  for (const Case& c :
       {Case{100, 24, Enc(DType::kInt4, 128, true)}, Case{37, 576, Enc(DType::kInt8, 32, true)},
        Case{3, 4096, Enc(DType::kFp16, 0, true)}, Case{1000, 9, Enc(DType::kInt4, 32, true)},
        Case{5000, 8, Enc(DType::kInt8, 64, true)}, Case{1, 6, Enc(DType::kFp32, 0, true)},
        Case{33, 640, Enc(DType::kBf16, 0, true)}, Case{50, 100, Blocks(DType::kInt4, 128)},
        Case{37, 576, Blocks(DType::kInt8, 32)}, Case{3, 4096, Blocks(DType::kFp16)},
        Case{700, 77, Blocks(DType::kInt4, 32)}, Case{1, 7, Blocks(DType::kFp32)}}) {
    const std::string name = absl::StrCat(c.rows, "x", c.width, " ", EncodingName(c.e));
    const Tensor t = OutlierTensor(c.rows, c.width, 3);
    absl::StatusOr<Rotation> rot = Rotation::Create(c.width, c.e.rotation_seed, c.e.rotation);
    ASSERT_TRUE(rot.ok()) << name;
    Tensor rotated = t;
    rot->Forward(rotated.data.data(), c.rows);
    Encoding plain = c.e;
    plain.rotation = RotationKind::kNone;
    Packet sliced, whole;
    ASSERT_TRUE(EncodeInto(t.data, t.shape, c.e, &sliced).ok()) << name;
    ASSERT_TRUE(EncodeInto(rotated.data, t.shape, plain, &whole).ok()) << name;
    EXPECT_EQ(sliced.payload, whole.payload) << name;
    EXPECT_EQ(sliced.scales, whole.scales) << name;

    absl::StatusOr<Tensor> back = Decode(sliced);
    absl::StatusOr<Tensor> back_plain = Decode(whole);
    ASSERT_TRUE(back.ok() && back_plain.ok()) << name;
    rot->Inverse(back_plain->data.data(), c.rows);
    EXPECT_EQ(
        std::memcmp(back->data.data(), back_plain->data.data(), t.data.size() * sizeof(float)), 0)
        << name;
  }
}

}  // namespace
}  // namespace latentbus::codec
