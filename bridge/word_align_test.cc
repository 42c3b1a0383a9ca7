#include "bridge/word_align.h"

#include "gtest/gtest.h"

namespace latentbus::bridge {
namespace {

TEST(WordAlignTest, WordSpansAreRunsOfNonSpace) {
  EXPECT_EQ(WordSpans("  the cat\tsat.\n"), (std::vector<ByteSpan>{{2, 5}, {6, 9}, {10, 14}}));
  EXPECT_TRUE(WordSpans("   ").empty());
}

TEST(WordAlignTest, PoolsOverlappingTokensAndSkipsEmptySpans) {
  // "hello world": BOS (empty), "hel", "lo", " world" (covers the space).
  const std::string text = "hello world";
  const std::vector<ByteSpan> spans = {{0, 0}, {0, 3}, {3, 5}, {5, 11}};
  const std::vector<float> v = {100, 100, 1, 2, 3, 4, 10, 20};
  std::vector<ByteSpan> words;
  std::vector<float> pooled;
  PoolWords(text, spans, v.data(), 2, &words, &pooled);
  EXPECT_EQ(words, (std::vector<ByteSpan>{{0, 5}, {6, 11}}));
  EXPECT_EQ(pooled, (std::vector<float>{2, 3, 10, 20}));
}

ActivationFile OneItem(const std::string& text, std::vector<uint32_t> spans,
                       std::vector<float> emb) {
  ActivationFile f;
  f.model_id = "m";
  f.width = 1;
  f.layers = {};
  f.texts = {text};
  f.splits = {"train"};
  f.offsets = {0, static_cast<int64_t>(spans.size() / 2)};
  f.spans = std::move(spans);
  f.token_ids.assign(f.spans.size() / 2, 0);
  f.embeddings = std::move(emb);
  return f;
}

TEST(WordAlignTest, PairsWordsAcrossDifferentTokenizations) {
  const std::string text = "unbelievable news, today";
  // A: BOS, "un", "believ", "able", " news", ",", " today".
  ActivationFile a =
      OneItem(text, {0, 0, 0, 2, 2, 8, 8, 12, 12, 17, 17, 18, 18, 24}, {9, 1, 2, 3, 4, 5, 6});
  // B: "unbelievable", " ", "news,", " to", "day" (no BOS).
  ActivationFile b = OneItem(text, {0, 12, 12, 13, 13, 18, 18, 21, 21, 24}, {10, 20, 30, 40, 50});
  absl::StatusOr<WordPairs> pairs = AlignWords({&a, -1}, {&b, -1}, "");
  ASSERT_TRUE(pairs.ok()) << pairs.status();
  ASSERT_EQ(pairs->size(), 3u);
  EXPECT_EQ(pairs->words, (std::vector<std::string>{"unbelievable", "news,", "today"}));
  EXPECT_EQ(pairs->src, (std::vector<float>{2, 4.5f, 6}));
  // "news," in B: the space token " " (12,13) does not overlap [13,18).
  EXPECT_EQ(pairs->dst, (std::vector<float>{10, 30, 45}));
  EXPECT_FALSE(AlignWords({&a, -1}, {&b, -1}, "heldout")->size());
  ActivationFile c = b;
  c.texts[0] = "something else entirely";
  EXPECT_FALSE(AlignWords({&a, -1}, {&c, -1}, "").ok());
  EXPECT_FALSE(AlignWords({&a, 5}, {&b, -1}, "").ok());
}

}  // namespace
}  // namespace latentbus::bridge
