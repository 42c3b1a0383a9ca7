#include "codec/encoding.h"

#include <gtest/gtest.h>

namespace latentbus::codec {
namespace {

TEST(EncodingTest, NamesRoundTrip) {
  for (const char* name :
       {"fp32", "fp16", "bf16", "int8/g32", "int8/g64", "int4/g128", "int4/g32+rot", "bf16+rot:42",
        "int8/g128+rot:7", "int4/g32+rot64", "fp16+rot64:9"}) {
    absl::StatusOr<Encoding> e = ParseEncoding(name);
    ASSERT_TRUE(e.ok()) << name << ": " << e.status();
    EXPECT_EQ(EncodingName(*e), name);
  }
}

TEST(EncodingTest, ParseDefaults) {
  absl::StatusOr<Encoding> e = ParseEncoding("int4");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->dtype, DType::kInt4);
  EXPECT_EQ(e->group_size, 32u);
  EXPECT_EQ(e->rotation, RotationKind::kNone);
  e = ParseEncoding("int8+rot");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->rotation, RotationKind::kHadamard);
  EXPECT_EQ(e->rotation_seed, kDefaultRotationSeed);
  e = ParseEncoding("int4/g128+rot64");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->rotation, RotationKind::kHadamard64);
  EXPECT_EQ(e->rotation_seed, kDefaultRotationSeed);
  e = ParseEncoding("int4+rot64:0");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->rotation, RotationKind::kHadamard64);
  EXPECT_EQ(e->rotation_seed, 0u);
  EXPECT_EQ(DefaultEncoding(), *ParseEncoding("int4/g32"));
}

TEST(EncodingTest, ParseRejectsNonsense) {
  for (const char* bad : {"", "int3", "int4/g16", "int4/32", "int4/gx", "fp16/g32", "int4+rotx",
                          "int4+rot:abc", "INT4", "int4+rot6", "int4+rot64x",
                          "int4+rot64:", "int4+rot:", "int4+rot64:1:2", "int4+rot128",
                          // ASCII digits only, as the Python SDK reads them.
                          "int4/g 64", "int4/g+64", "int4/g32 ", "int4+rot: 5", "int4+rot:+5",
                          "int4+rot:5 ", "int4/g\xef\xbc\x93\xef\xbc\x92"}) {
    absl::StatusOr<Encoding> e = ParseEncoding(bad);
    EXPECT_FALSE(e.ok()) << bad;
    if (!e.ok()) {
      EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    }
  }
}

TEST(EncodingTest, ValidateChecksGroupAndEnums) {
  EXPECT_TRUE(ValidateEncoding({DType::kInt8, 64, RotationKind::kNone, 0}).ok());
  EXPECT_FALSE(ValidateEncoding({DType::kInt8, 0, RotationKind::kNone, 0}).ok());
  EXPECT_FALSE(ValidateEncoding({DType::kInt4, 48, RotationKind::kNone, 0}).ok());
  EXPECT_FALSE(ValidateEncoding({DType::kFp16, 32, RotationKind::kNone, 0}).ok());
  EXPECT_FALSE(ValidateEncoding({static_cast<DType>(9), 0, RotationKind::kNone, 0}).ok());
  EXPECT_FALSE(ValidateEncoding({DType::kFp32, 0, static_cast<RotationKind>(5), 0}).ok());
}

TEST(EncodingTest, SizesPerEncoding) {
  const Encoding int4{DType::kInt4, 32, RotationKind::kNone, 0};
  EXPECT_EQ(PayloadBytes(int4, 32 * 576), 32u * 576 / 2);
  EXPECT_EQ(PayloadBytes(int4, 33), 17u);
  EXPECT_EQ(NumGroups(int4, 33), 2u);
  EXPECT_EQ(NumGroups(int4, 64), 2u);
  const Encoding int8{DType::kInt8, 128, RotationKind::kNone, 0};
  EXPECT_EQ(PayloadBytes(int8, 576), 576u);
  EXPECT_EQ(NumGroups(int8, 576), 5u);  // 4.5 groups: the last is short
  const Encoding fp16{DType::kFp16, 0, RotationKind::kNone, 0};
  EXPECT_EQ(PayloadBytes(fp16, 10), 20u);
  EXPECT_EQ(NumGroups(fp16, 10), 0u);
  EXPECT_EQ(PayloadBytes({DType::kFp32, 0, RotationKind::kNone, 0}, 10), 40u);
}

}  // namespace
}  // namespace latentbus::codec
