#include "agent/gguf/ggml_type.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "agent/gguf/gguf_file.h"

namespace latentbus::agent::gguf {
namespace {

using ::testing::HasSubstr;

uint32_t Bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  return u;
}

std::vector<float> Dequantized(GgmlType type, const std::vector<uint8_t>& block, size_t n) {
  std::vector<float> out(n);
  absl::Status s = Dequantize(type, block.data(), n, out.data());
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

// Sizes from ggml's block structs (ggml-common.h), independent of our table.
TEST(GgmlTypeTest, BlockSizesMatchGgml) {
  struct Expected {
    GgmlType type;
    const char* name;
    size_t elements;
    size_t bytes;
  };
  const Expected kExpected[] = {
      {GgmlType::kF32, "F32", 1, 4},       {GgmlType::kF16, "F16", 1, 2},
      {GgmlType::kBF16, "BF16", 1, 2},     {GgmlType::kQ4_0, "Q4_0", 32, 18},
      {GgmlType::kQ4_1, "Q4_1", 32, 20},   {GgmlType::kQ5_0, "Q5_0", 32, 22},
      {GgmlType::kQ5_1, "Q5_1", 32, 24},   {GgmlType::kQ8_0, "Q8_0", 32, 34},
      {GgmlType::kQ2_K, "Q2_K", 256, 84},  {GgmlType::kQ3_K, "Q3_K", 256, 110},
      {GgmlType::kQ4_K, "Q4_K", 256, 144}, {GgmlType::kQ5_K, "Q5_K", 256, 176},
      {GgmlType::kQ6_K, "Q6_K", 256, 210},
  };
  for (const Expected& e : kExpected) {
    EXPECT_TRUE(IsSupported(static_cast<uint32_t>(e.type))) << e.name;
    EXPECT_STREQ(TypeName(e.type), e.name);
    EXPECT_EQ(BlockElements(e.type), e.elements) << e.name;
    EXPECT_EQ(BlockBytes(e.type), e.bytes) << e.name;
    EXPECT_EQ(RowBytes(e.type, 4 * e.elements), 4 * e.bytes) << e.name;
  }
}

TEST(GgmlTypeTest, UnsupportedTypesAreRefused) {
  // 4 and 5 were removed from ggml; 9 and 15 (Q8_1, Q8_K) are dot-product intermediates;
  // 16..29 are i-quants and integer types; 31+ newer types.
  for (uint32_t t : {4u, 5u, 9u, 15u, 16u, 20u, 29u, 31u, 39u, 1000u, 0xffffffffu}) {
    EXPECT_FALSE(IsSupported(t)) << t;
  }
  EXPECT_STREQ(TypeName(GgmlType::kQ8_K), "Q8_K");
  EXPECT_STREQ(TypeName(static_cast<GgmlType>(77)), "unknown");
  EXPECT_EQ(BlockElements(GgmlType::kQ8_1), 0u);
  float out[32];
  const uint8_t zeros[64] = {};
  absl::Status s = Dequantize(GgmlType::kQ8_1, zeros, 32, out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("Q8_1"));
  s = Dequantize(static_cast<GgmlType>(77), zeros, 32, out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("77"));
}

TEST(GgmlTypeTest, PartialBlocksAreRefused) {
  float out[256];
  const uint8_t zeros[256] = {};
  absl::Status s = Dequantize(GgmlType::kQ4_K, zeros, 128, out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("256-element blocks"));
  EXPECT_FALSE(Dequantize(GgmlType::kQ8_0, zeros, 33, out).ok());
  EXPECT_TRUE(Dequantize(GgmlType::kQ8_0, zeros, 0, out).ok());
  EXPECT_TRUE(Dequantize(GgmlType::kF32, nullptr, 0, nullptr).ok());  // zero-size tensors
  EXPECT_TRUE(Dequantize(GgmlType::kF16, zeros, 3, out).ok());
}

TEST(GgmlTypeTest, HalfConversionIsExactAndMonotonic) {
  const std::vector<uint8_t> special = {0x01, 0x00, 0x00, 0x3c, 0xff, 0xfb, 0x00, 0x7c,
                                        0x00, 0x80, 0xff, 0x03, 0x00, 0x04, 0x55, 0x35};
  const std::vector<float> v = Dequantized(GgmlType::kF16, special, 8);
  EXPECT_EQ(v[0], std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(v[1], 1.0f);
  EXPECT_EQ(v[2], -65504.0f);
  EXPECT_EQ(v[3], std::numeric_limits<float>::infinity());
  EXPECT_EQ(Bits(v[4]), 0x80000000u);         // -0.0
  EXPECT_EQ(v[5], std::ldexp(1023.0f, -24));  // largest subnormal
  EXPECT_EQ(v[6], std::ldexp(1.0f, -14));     // smallest normal
  EXPECT_EQ(v[7], 0.333251953125f);

  // Every positive finite half maps to a strictly larger float than the previous one,
  // and its negation to exactly the negated float.
  std::vector<uint8_t> all(2 * 0x7c00 * 2);
  for (uint32_t h = 0; h < 0x7c00; ++h) {
    const uint32_t neg = h | 0x8000u;
    all[2 * h] = static_cast<uint8_t>(h);
    all[2 * h + 1] = static_cast<uint8_t>(h >> 8);
    all[2 * (0x7c00 + h)] = static_cast<uint8_t>(neg);
    all[2 * (0x7c00 + h) + 1] = static_cast<uint8_t>(neg >> 8);
  }
  const std::vector<float> f = Dequantized(GgmlType::kF16, all, 2 * 0x7c00);
  for (uint32_t h = 1; h < 0x7c00; ++h) {
    ASSERT_LT(f[h - 1], f[h]) << std::hex << h;
    ASSERT_EQ(Bits(f[0x7c00 + h]), Bits(f[h]) | 0x80000000u) << std::hex << h;
  }
  EXPECT_EQ(f[0x7bff], 65504.0f);
}

// Hand-built blocks pin down each layout family independently of the fixtures.

TEST(GgmlTypeTest, Q4_0NibbleOrder) {
  std::vector<uint8_t> block(18);
  block[0] = 0x00;  // d = 2.0 (f16 0x4000)
  block[1] = 0x40;
  for (int j = 0; j < 16; ++j) block[2 + j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  const std::vector<float> v = Dequantized(GgmlType::kQ4_0, block, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(v[j], 2.0f * static_cast<float>(j - 8)) << j;
    EXPECT_EQ(v[j + 16], 2.0f * static_cast<float>(7 - j)) << j;
  }
}

TEST(GgmlTypeTest, Q5_1HighBitsAndMinimum) {
  std::vector<uint8_t> block(24);
  block[1] = 0x3c;  // d = 1.0
  block[3] = 0xbc;  // m = -1.0
  // qh: bit j set for odd j, so element j gets +16 when odd.
  const uint32_t qh = 0xaaaaaaaau;
  std::memcpy(&block[4], &qh, 4);
  for (int j = 0; j < 16; ++j) block[8 + j] = static_cast<uint8_t>(3 | (5 << 4));
  const std::vector<float> v = Dequantized(GgmlType::kQ5_1, block, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(v[j], static_cast<float>(3 + (j % 2 ? 16 : 0)) - 1.0f) << j;
    EXPECT_EQ(v[j + 16], static_cast<float>(5 + (j % 2 ? 16 : 0)) - 1.0f) << j;
  }
}

TEST(GgmlTypeTest, Q4_KSixBitScalesAndMins) {
  std::vector<uint8_t> block(144);
  block[1] = 0x3c;  // d = 1.0
  block[3] = 0x38;  // dmin = 0.5
  uint8_t* s = &block[4];
  // Sub-block 1: scale 0b000011 = 3 (low bits in s[1]), min 5 (s[5]); their top bits
  // in s[1] and s[5] bits 6..7 belong to sub-block 5: scale 0b11'0010 = 50, min
  // 0b10'0111 = 39 with low nibbles in s[9].
  s[1] = static_cast<uint8_t>(3 | (0x3 << 6));
  s[5] = static_cast<uint8_t>(5 | (0x2 << 6));
  s[9] = static_cast<uint8_t>(0x2 | (0x7 << 4));
  // qs: chunk 0 bytes (sub-blocks 0 and 1) = 0x90 -> low nibble 0, high nibble 9;
  // chunk 2 bytes (sub-blocks 4 and 5) = 0x4f -> low 15, high 4.
  for (int l = 0; l < 32; ++l) {
    block[16 + l] = 0x90;
    block[16 + 64 + l] = 0x4f;
  }
  const std::vector<float> v = Dequantized(GgmlType::kQ4_K, block, 256);
  EXPECT_EQ(v[0], 0.0f);                  // sub-block 0: scale 0, min 0
  EXPECT_EQ(v[32], 3.0f * 9 - 0.5f * 5);  // sub-block 1
  EXPECT_EQ(v[128], 0.0f);                // sub-block 4: scale 0, min 0
  EXPECT_EQ(v[160], 50.0f * 4 - 0.5f * 39);
  EXPECT_EQ(v[191], 50.0f * 4 - 0.5f * 39);
}

TEST(GgmlTypeTest, Q6_KElementOrder) {
  std::vector<uint8_t> block(210);
  for (int k = 0; k < 16; ++k) block[192 + k] = static_cast<uint8_t>(k + 1);  // scales 1..16
  block[209] = 0x3c;                                                          // d = 1.0
  // Half 1: ql[64 + 33] = 0xa7: element 128 + 33 gets low nibble 7, element 128 + 97
  // high nibble 10; qh[32 + 1] = 0b11'10'01'00 gives their high bits: element 128 + 1
  // -> 0, 128 + 33 -> 1, 128 + 65 -> 2, 128 + 97 -> 3.
  block[64 + 33] = 0xa7;
  block[128 + 32 + 1] = 0xe4;
  const std::vector<float> v = Dequantized(GgmlType::kQ6_K, block, 256);
  EXPECT_EQ(v[128 + 1], 9.0f * (0 - 32));          // sub-block 8, q = 0
  EXPECT_EQ(v[128 + 33], 11.0f * (7 + 16 - 32));   // sub-block 10
  EXPECT_EQ(v[128 + 65], 13.0f * (0 + 32 - 32));   // sub-block 12
  EXPECT_EQ(v[128 + 97], 15.0f * (10 + 48 - 32));  // sub-block 14
  EXPECT_EQ(v[0], 1.0f * -32);
}

TEST(GgmlTypeTest, Q3_KSignedScalesAndHighMask) {
  std::vector<uint8_t> block(110);
  block[109] = 0x3c;  // d = 1.0
  // Scale 9: low nibble in the high half of byte 96 + 1, high bits in bits 4..5 of
  // byte 96 + 8 + 1. 0b01'0001 = 17 -> 17 - 32 = -15. Every other scale is 0 - 32.
  block[96 + 1] = 0x10;
  block[96 + 9] = 0x10;
  // Element 144 = 128 + 16: h = 1, k = 0, l = 16: low bits of qs[32 + 16], hmask bit 4
  // of hmask[16]. Element 145 has hmask clear: q = low - 4.
  block[32 + 32 + 16] = 0x3;
  block[32 + 32 + 17] = 0x1;
  block[16] = 0x10;
  const std::vector<float> v = Dequantized(GgmlType::kQ3_K, block, 256);
  EXPECT_EQ(v[144], -15.0f * 3);
  EXPECT_EQ(v[145], -15.0f * (1 - 4));
  EXPECT_EQ(v[0], -32.0f * -4);
}

// The fixture holds, for every supported type, quantized tensors and their
// dequantization by the gguf Python package (scripts/fixtures/make_gguf_fixtures.py).
// Tolerance: none. Both sides compute each value with the same binary32 operations in
// the same order (scale products first, no fused multiply-add: the library is built
// with -ffp-contract=off) and fp16 -> fp32 is exact, so the results must be bitwise
// equal; any difference is a layout or arithmetic error.
TEST(GgmlTypeTest, MatchesGgufPythonReferenceBitForBit) {
  absl::StatusOr<std::unique_ptr<GgufFile>> file =
      GgufFile::Open(std::string(LATENTBUS_GGUF_TESTDATA) + "/quants.gguf");
  ASSERT_TRUE(file.ok()) << file.status();
  std::set<std::string> covered;
  int compared = 0;
  for (const TensorInfo& expected : (*file)->tensors()) {
    if (!absl::EndsWith(expected.name, ".expected")) continue;
    const std::string source_name =
        expected.name.substr(0, expected.name.size() - std::string(".expected").size());
    absl::StatusOr<const TensorInfo*> source = (*file)->FindTensor(source_name);
    ASSERT_TRUE(source.ok()) << source.status();
    const TensorInfo& src = **source;
    ASSERT_EQ(expected.type, GgmlType::kF32);
    ASSERT_EQ(src.dims, expected.dims) << src.name;
    std::vector<float> got(src.num_elements);
    ASSERT_TRUE(Dequantize(src.type, src.data, src.num_elements, got.data()).ok()) << src.name;
    std::vector<float> want(expected.num_elements);
    std::memcpy(want.data(), expected.data, expected.num_bytes);
    size_t mismatches = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      if (Bits(got[i]) != Bits(want[i]) && mismatches++ < 5) {
        ADD_FAILURE() << src.name << " (" << TypeName(src.type) << ") element " << i << " (row "
                      << i / src.dims[0] << "): got " << got[i] << ", reference " << want[i];
      }
    }
    EXPECT_EQ(mismatches, 0u) << src.name;
    covered.insert(TypeName(src.type));
    ++compared;
  }
  EXPECT_EQ(covered, (std::set<std::string>{"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1",
                                            "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"}));
  EXPECT_EQ(compared, 20);  // 7 types from data and random bytes, 5 k-quants, F32
}

}  // namespace
}  // namespace latentbus::agent::gguf
