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
