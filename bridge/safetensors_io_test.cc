#include "bridge/safetensors_io.h"

#include <cstdio>
#include <fstream>

#include "gtest/gtest.h"

namespace latentbus::bridge {
namespace {

std::string TempPath(const char* name) { return std::string(::testing::TempDir()) + "/" + name; }

TEST(SafetensorsIoTest, RoundTripsTensorsAndMetadata) {
  const std::vector<float> f = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, 8.0f};
  const std::vector<int32_t> i = {1, -2, 3};
  const std::vector<int64_t> l = {int64_t{1} << 40, -5};
  const std::string path = TempPath("roundtrip.safetensors");
  ASSERT_TRUE(WriteSafetensors(path, {{"k", "v"}},
                               {{"f", "F32", {2, 3}, f.data()},
                                {"i", "I32", {3}, i.data()},
                                {"l", "I64", {2}, l.data()}})
                  .ok());
  absl::StatusOr<SafetensorsContents> c = ReadSafetensors(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->metadata.at("k"), "v");
  std::vector<float> f2;
  std::vector<int32_t> i2;
  std::vector<int64_t> l2;
  ASSERT_TRUE(c->tensors.at("f").CopyFloats(&f2).ok());
  ASSERT_TRUE(c->tensors.at("i").CopyInt32(&i2).ok());
  ASSERT_TRUE(c->tensors.at("l").CopyInt64(&l2).ok());
  EXPECT_EQ(f2, f);
  EXPECT_EQ(i2, i);
  EXPECT_EQ(l2, l);
  EXPECT_EQ(c->tensors.at("f").shape, (std::vector<int64_t>{2, 3}));
  EXPECT_FALSE(c->tensors.at("f").CopyInt32(&i2).ok());
}

TEST(SafetensorsIoTest, Bf16IsRoundedToNearestEvenAndReadBackAsFloat) {
  // 1 + 2^-8 is halfway between two bfloat16 values (1 and 1 + 2^-7): ties go to even (1);
  // 1 + 3 * 2^-8 rounds up to 1 + 2^-6; exact values stay exact.
  const std::vector<float> f = {1.0f, 1.0f + 1.0f / 256, 1.0f + 3.0f / 256, -2.5f, 0.0f, 65504.0f};
  const std::string path = TempPath("bf16.safetensors");
  ASSERT_TRUE(WriteSafetensors(path, {}, {{"f", "BF16", {6}, f.data()}}).ok());
  absl::StatusOr<SafetensorsContents> c = ReadSafetensors(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->tensors.at("f").bytes.size(), 12u);  // two bytes a value
  std::vector<float> back;
  ASSERT_TRUE(c->tensors.at("f").CopyFloats(&back).ok());
  EXPECT_EQ(back, (std::vector<float>{1.0f, 1.0f, 1.0f + 1.0f / 64, -2.5f, 0.0f, 65536.0f}));
}

TEST(SafetensorsIoTest, RejectsTruncatedAndGarbageFiles) {
  const std::vector<float> f(16, 1.0f);
  const std::string path = TempPath("truncated.safetensors");
  ASSERT_TRUE(WriteSafetensors(path, {}, {{"f", "F32", {16}, f.data()}}).ok());
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() - 4));
  }
  EXPECT_FALSE(ReadSafetensors(path).ok());
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << "\x10\0\0\0\0\0\0\0not json at all!";
  }
  EXPECT_FALSE(ReadSafetensors(path).ok());
  EXPECT_FALSE(ReadSafetensors(TempPath("missing.safetensors")).ok());
  EXPECT_FALSE(WriteSafetensors(path, {}, {{"x", "F64", {1}, f.data()}}).ok());
}

}  // namespace
}  // namespace latentbus::bridge
