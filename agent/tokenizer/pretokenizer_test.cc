#include "agent/tokenizer/pretokenizer.h"

#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace latentbus::agent::tokenizer {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> Words(PreTokenizer kind, const std::string& text) {
  std::vector<WordRange> ranges;
  PreTokenize(kind, text, &ranges);
  std::vector<std::string> words;
  for (const WordRange& r : ranges) words.push_back(text.substr(r.begin, r.end - r.begin));
  return words;
}

std::vector<std::string> Gpt2(const std::string& text) { return Words(PreTokenizer::kGpt2, text); }

TEST(PreTokenizerTest, Gpt2PatternWordsAndSpaces) {
  EXPECT_THAT(Gpt2("Hello world"), ElementsAre("Hello", " world"));
  EXPECT_THAT(Gpt2("   word"), ElementsAre("  ", " word"));  // \s+(?!\S) leaves one space
  EXPECT_THAT(Gpt2("a  "), ElementsAre("a", "  "));          // trailing run stays whole
  EXPECT_THAT(Gpt2("\n\nword"), ElementsAre("\n", "\n", "word"));
  EXPECT_THAT(Gpt2("\tx"), ElementsAre("\t", "x"));  // ` ?` is U+0020 only
  EXPECT_THAT(Gpt2("!!! ??? x"), ElementsAre("!!!", " ???", " x"));
  EXPECT_THAT(Gpt2("\xE6\x97\xA5\xE6\x9C\xAC"), ElementsAre("\xE6\x97\xA5\xE6\x9C\xAC"));
  EXPECT_THAT(Gpt2("a\xC2\xA0"
                   "b"),
              ElementsAre("a", "\xC2\xA0", "b"));  // NBSP is \s
  EXPECT_THAT(Gpt2(""), IsEmpty());
}

TEST(PreTokenizerTest, Gpt2Contractions) {
  EXPECT_THAT(Gpt2("I'm we've they'll"), ElementsAre("I", "'m", " we", "'ve", " they", "'ll"));
  EXPECT_THAT(Gpt2("DON'T"), ElementsAre("DON", "'", "T"));  // upper case is no contraction
  EXPECT_THAT(Gpt2("?'s"), ElementsAre("?'", "s"));          // only at the start of a match
  EXPECT_THAT(Gpt2(" 's"), ElementsAre(" '", "s"));
}

TEST(PreTokenizerTest, Gpt2NumbersStayTogetherDigitsVariantIsolatesThem) {
  EXPECT_THAT(Gpt2("x 123 4"), ElementsAre("x", " 123", " 4"));
  EXPECT_THAT(Words(PreTokenizer::kGpt2Digits, "x 123 4"),
              ElementsAre("x", " ", "1", "2", "3", " ", "4"));
  // Superscript two and Arabic-Indic digits are \p{N} too.
  EXPECT_THAT(Words(PreTokenizer::kGpt2Digits, "x\xC2\xB2\xD9\xA3"),
              ElementsAre("x", "\xC2\xB2", "\xD9\xA3"));
  EXPECT_THAT(Words(PreTokenizer::kNone, "a b"), ElementsAre("a b"));
}

TEST(PreTokenizerTest, InvalidBytesAreOtherCharacters) {
  EXPECT_THAT(Gpt2("a\xFF"
                   "b"),
              ElementsAre("a", "\xFF", "b"));
  EXPECT_THAT(Gpt2("\xFF\xFE!"), ElementsAre("\xFF\xFE!"));
  EXPECT_THAT(Gpt2(" \xE2\x82"), ElementsAre(" \xE2\x82"));  // truncated sequence
}

TEST(PreTokenizerTest, WordsTileRandomBytes) {
  std::mt19937 rng(7);
  const std::string alphabet[] = {"a",   " ",  "\n",           "1",
                                  "'",   "s",  "\xC3\xA9",     "\xFF",
                                  "!",   "\t", "\xE2\x80\x83", "\xF0\x9F\x98\x80",
                                  "\xE2"};
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    const int n = rng() % 30;
    for (int i = 0; i < n; ++i) text += alphabet[rng() % std::size(alphabet)];
    for (PreTokenizer kind : {PreTokenizer::kGpt2, PreTokenizer::kGpt2Digits}) {
      std::vector<WordRange> words;
      PreTokenize(kind, text, &words);
      size_t at = 0;
      for (const WordRange& w : words) {
        ASSERT_EQ(w.begin, at);
        ASSERT_LT(w.begin, w.end);
        at = w.end;
      }
      ASSERT_EQ(at, text.size());
    }
  }
}

}  // namespace
}  // namespace latentbus::agent::tokenizer
