#include "agent/tokenizer/piece_index.h"

#include <string>
#include <vector>

#include "agent/tokenizer/string_table.h"
#include "gtest/gtest.h"

namespace latentbus::agent::tokenizer::internal {
namespace {

TEST(PieceIndexTest, FindsEachPieceAndNothingElse) {
  const std::vector<std::string> pieces = {"a", "b", "ab", "", "\xE2\x96\x81the", "<0x0A>"};
  const PieceIndex index(&pieces);
  for (size_t id = 0; id < pieces.size(); ++id) {
    ASSERT_EQ(index.Find(pieces[id]), static_cast<int32_t>(id)) << pieces[id];
  }
  EXPECT_EQ(index.Find("abc"), std::nullopt);
  EXPECT_EQ(index.Find("A"), std::nullopt);
  EXPECT_EQ(index.Find(std::string("a\0", 2)), std::nullopt);
}

TEST(PieceIndexTest, ALaterDuplicateSpellingWins) {
  const std::vector<std::string> pieces = {"x", "y", "x", "z", "x"};
  const PieceIndex index(&pieces);
  EXPECT_EQ(index.Find("x"), 4);
  EXPECT_EQ(index.Find("y"), 1);
  EXPECT_EQ(index.Find("z"), 3);
}

TEST(PieceIndexTest, ALargeVocabularyCostsAboutFiveBytesAPiece) {
  std::vector<std::string> pieces;
  for (int i = 0; i < 100000; ++i) pieces.push_back("piece" + std::to_string(i));
  const PieceIndex index(&pieces);
  for (int i = 0; i < 100000; i += 997) ASSERT_EQ(index.Find("piece" + std::to_string(i)), i);
  // Capacity is at most twice the count (a power of two above count / load factor).
  EXPECT_LE(index.table_bytes(), 2 * 5 * pieces.size() + 64);
}

TEST(StringTableTest, GivesBackWhatWasAddedIncludingEmptyAndBinary) {
  StringTable table;
  table.Add("hello");
  table.Add("");
  table.Add(std::string("a\0b", 3));
  table.Add(" ");
  ASSERT_EQ(table.size(), 4u);
  EXPECT_EQ(table[0], "hello");
  EXPECT_EQ(table[1], "");
  EXPECT_EQ(table[2], std::string("a\0b", 3));
  EXPECT_EQ(table[3], " ");
}

}  // namespace
}  // namespace latentbus::agent::tokenizer::internal
