#include "codec/checksum.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "codec/cpu_features.h"

namespace latentbus::codec {
namespace {

TEST(ChecksumTest, KnownValueOfEmptyInput) {
  // XXH3_64bits("", seed 0) from the xxHash specification's test vectors.
  EXPECT_EQ(Xxh3({}), 0x2d06800538d394c2ULL);
  EXPECT_EQ(Xxh3({absl::string_view()}), 0x2d06800538d394c2ULL);
}

// Values from the reference implementation (python `xxhash.xxh3_64_intdigest`) for
// byte i = (7 i + 3) mod 256, one length in each of XXH3's internal size classes.
TEST(ChecksumTest, MatchesTheReferenceImplementation) {
  const std::pair<size_t, uint64_t> kVectors[] = {
      {1, 0x13e608bc156defedULL},   {3, 0xa9088dda485b481cULL},   {4, 0x6d9253b16c8b1ed3ULL},
      {8, 0x60539db630471163ULL},   {9, 0xfeff668361d723a8ULL},   {16, 0xb8c859b0f030b585ULL},
      {17, 0x714a04408e79b80fULL},  {128, 0x67425a03650261bfULL}, {129, 0xc664bf3311c6abc4ULL},
      {240, 0x64556dc6b462a6cfULL}, {241, 0x8beadd3a8874fe17ULL}, {1000, 0x6c4f14bd97bd9e82ULL},
  };
  for (const auto& [n, want] : kVectors) {
    std::string data(n, '\0');
    for (size_t i = 0; i < n; ++i) data[i] = static_cast<char>((i * 7 + 3) & 255);
    EXPECT_EQ(Xxh3({data}), want) << n;
    EXPECT_EQ(internal::Xxh3Portable({data}), want) << n;
  }
}

TEST(ChecksumTest, PiecesHashLikeTheirConcatenation) {
  std::mt19937 rng(1);
  std::string data(100000, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  const absl::string_view all(data);
  const uint64_t whole = Xxh3({all});
  EXPECT_EQ(Xxh3({all.substr(0, 7), all.substr(7, 70000), all.substr(70007)}), whole);
  EXPECT_NE(Xxh3({all.substr(1)}), whole);
}

TEST(ChecksumTest, Avx2AndPortableAgree) {
  if (!CpuHasAvx2()) GTEST_SKIP() << "no AVX2";
  std::mt19937 rng(2);
  for (size_t len : {0u, 1u, 3u, 16u, 17u, 128u, 129u, 240u, 241u, 1024u, 4096u, 100003u}) {
    std::string data(len, '\0');
    for (char& c : data) c = static_cast<char>(rng());
    const absl::string_view head = absl::string_view(data).substr(0, len / 3);
    const absl::string_view tail = absl::string_view(data).substr(len / 3);
    EXPECT_EQ(internal::Xxh3Avx2({head, tail}), internal::Xxh3Portable({head, tail})) << len;
  }
}

}  // namespace
}  // namespace latentbus::codec
