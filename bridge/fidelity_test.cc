// MeasureFidelity on inputs small enough to compute every figure by hand. (fit_test
// measures fitted bridges against thresholds; here the exact values are checked.)
#include "bridge/fidelity.h"

#include <cmath>

#include "gtest/gtest.h"

namespace latentbus::bridge {
namespace {

using Rows = std::vector<std::vector<float>>;

std::vector<float> Flat(const Rows& rows) {
  std::vector<float> out;
  for (const std::vector<float>& r : rows) out.insert(out.end(), r.begin(), r.end());
  return out;
}

WordPairs Pairs(const Rows& src, const Rows& dst, std::vector<uint32_t> items,
                std::vector<std::string> words) {
  WordPairs p;
  p.src_width = static_cast<int64_t>(src.at(0).size());
  p.dst_width = static_cast<int64_t>(dst.at(0).size());
  p.src = Flat(src);
  p.dst = Flat(dst);
  p.item = std::move(items);
  p.words = std::move(words);
  return p;
}

// Targets at the four compass points; the source is the same square turned by 90 degrees
// (the same distances). Translations:
//   t0 = (2, 0)   target (1, 0):  cosine 1,        nearest target (1, 0)  hit
//   t1 = (1, 2)   target (0, 1):  cosine 2/sqrt5,  nearest (0, 1)         hit
//   t2 = (-1, 0)  target (-1, 0): cosine 1,        nearest (-1, 0)        hit
//   t3 = (-1, 2)  target (0, -1): cosine -2/sqrt5, nearest (0, 1)         miss
// Items {0}, {1, 2}, {3}: mean translations (2, 0), (0, 1), (-1, 2) against mean
// targets (1, 0), (-0.5, 0.5), (0, -1): the first two find theirs, the third finds
// (-0.5, 0.5) (cosine 3/sqrt10).
class SquareTest : public ::testing::Test {
 protected:
  const WordPairs pairs_ =
      Pairs({{0, 1}, {-1, 0}, {0, -1}, {1, 0}}, {{1, 0}, {0, 1}, {-1, 0}, {0, -1}}, {0, 1, 1, 2},
            {"a", "b", "c", "d"});
  const std::vector<float> translated_ = Flat({{2, 0}, {1, 2}, {-1, 0}, {-1, 2}});
};

TEST_F(SquareTest, CosineRetrievalAndSentencesMatchTheHandComputedValues) {
  absl::StatusOr<Fidelity> f = MeasureFidelity(pairs_, translated_);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_NEAR(f->cosine, 0.5, 1e-6);  // (1 + 2/sqrt5 + 1 - 2/sqrt5) / 4
  EXPECT_DOUBLE_EQ(f->word_top1, 0.75);
  EXPECT_NEAR(f->sentence_top1, 2.0 / 3.0, 1e-12);
  EXPECT_EQ(f->words, 4);
  EXPECT_EQ(f->distinct_words, 4);
  EXPECT_EQ(f->sentences, 3);
  // Source and target distances are equal: identical spectra.
  EXPECT_NEAR(f->spectrum_corr, 1.0, 1e-9);
  EXPECT_EQ(f->unseen_words, 0);  // not measured without the training words
  std::map<std::string, double> m = f->ToMap();
  EXPECT_EQ(m.at("word_top1"), f->word_top1);
  EXPECT_EQ(m.at("sentences"), 3.0);
  EXPECT_EQ(m.size(), 10u);
}

TEST_F(SquareTest, UnseenWordsCompeteOnlyAmongThemselves) {
  // c and d were never trained on. Among the targets (-1, 0) and (0, -1): t2 = (-1, 0)
  // finds its own; t3 = (-1, 2) is nearer (-1, 0) (1/sqrt5 > -2/sqrt5).
  const absl::flat_hash_set<std::string> train = {"a", "b", "unrelated"};
  absl::StatusOr<Fidelity> f = MeasureFidelity(pairs_, translated_, &train);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->unseen_words, 2);
  EXPECT_DOUBLE_EQ(f->unseen_word_top1, 0.5);
  EXPECT_DOUBLE_EQ(f->word_top1, 0.75);  // unchanged by the training words
}

TEST(FidelityTest, EveryPairCountsForCosineButEachWordOnceForRetrieval) {
  // "x" occurs twice; its second occurrence is translated badly ((0, 1) for (1, 0)).
  // Retrieval over the distinct words x, y, z is perfect; cosine sees all four pairs.
  const Rows targets = {{1, 0}, {0, 1}, {1, 0}, {-1, 0}};
  WordPairs pairs = Pairs(targets, targets, {0, 0, 0, 0}, {"x", "y", "x", "z"});
  absl::StatusOr<Fidelity> f = MeasureFidelity(pairs, Flat({{1, 0}, {0, 1}, {0, 1}, {-1, 0}}));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_NEAR(f->cosine, 0.75, 1e-6);  // (1 + 1 + 0 + 1) / 4
  EXPECT_DOUBLE_EQ(f->word_top1, 1.0);
  EXPECT_EQ(f->words, 4);
  EXPECT_EQ(f->distinct_words, 3);
  // One item: nothing to retrieve it among.
  EXPECT_EQ(f->sentences, 1);
  EXPECT_DOUBLE_EQ(f->sentence_top1, 0.0);
}

TEST(FidelityTest, SpectrumCorrelationOfATriangleAgainstALine) {
  // Distance matrices: an equilateral triangle of side 1 has eigenvalues (2, -1, -1);
  // points 0, 1, 2 on a line have (1 + sqrt3, 1 - sqrt3, -2). Both have mean 0, so the
  // Pearson correlation is (3 + 3 sqrt3) / (sqrt6 * sqrt12) = (1 + sqrt3) / (2 sqrt2)
  // = cos 15 degrees. The translation, the line doubled and shifted, has the line's
  // spectrum doubled: correlation 1.
  const float h = std::sqrt(3.0f) / 2;
  WordPairs pairs =
      Pairs({{0, 0}, {1, 0}, {0.5f, h}}, {{0, 0}, {1, 0}, {2, 0}}, {0, 1, 2}, {"p", "q", "r"});
  absl::StatusOr<Fidelity> f = MeasureFidelity(pairs, Flat({{1, 1}, {3, 1}, {5, 1}}));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_NEAR(f->spectrum_corr, (1 + std::sqrt(3.0)) / (2 * std::sqrt(2.0)), 1e-6);
  EXPECT_NEAR(f->spectrum_corr, 0.9659258, 1e-6);
  EXPECT_NEAR(f->spectrum_corr_translated, 1.0, 1e-9);
}

TEST(FidelityTest, RetrievalCandidatesComeInBlocksOf100) {
  // 200 distinct words in 100 dimensions. Word i < 100: target e_i. Word 100 + j:
  // target e_j + 0.5 e_(j+1), translated to e_j. Within its block of 100 the translation
  // finds its own target (cosine 0.89 against 0.45); among all 200 it would find word j's
  // e_j (cosine 1) instead, and word_top1 would be 0.5.
  const int kDim = 100;
  Rows targets, translations;
  std::vector<uint32_t> items;
  std::vector<std::string> words;
  for (int i = 0; i < 2 * kDim; ++i) {
    std::vector<float> t(kDim, 0.0f), y(kDim, 0.0f);
    t[i % kDim] = 1;
    y[i % kDim] = 1;
    if (i >= kDim) y[(i + 1) % kDim] = 0.5f;
    translations.push_back(t);
    targets.push_back(y);
    items.push_back(static_cast<uint32_t>(i));
    words.push_back("w" + std::to_string(i));
  }
  absl::StatusOr<Fidelity> f =
      MeasureFidelity(Pairs(targets, targets, items, words), Flat(translations));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->distinct_words, 200);
  EXPECT_DOUBLE_EQ(f->word_top1, 1.0);
  EXPECT_DOUBLE_EQ(f->sentence_top1, 1.0);  // one word an item: the same blocks
}

TEST(FidelityTest, RefusesFewerThanTwoPairsAndMismatchedTranslations) {
  WordPairs one = Pairs({{1, 0}}, {{1, 0}}, {0}, {"a"});
  EXPECT_EQ(MeasureFidelity(one, {1, 0}).status().code(), absl::StatusCode::kInvalidArgument);
  WordPairs two = Pairs({{1, 0}, {0, 1}}, {{1, 0}, {0, 1}}, {0, 1}, {"a", "b"});
  EXPECT_EQ(MeasureFidelity(two, {1, 0, 0}).status().code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<Fidelity> f = MeasureFidelity(two, two.dst);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_NEAR(f->cosine, 1.0, 1e-6);
  EXPECT_DOUBLE_EQ(f->word_top1, 1.0);
  EXPECT_DOUBLE_EQ(f->spectrum_corr, 0.0);  // needs 3 distinct words
}

}  // namespace
}  // namespace latentbus::bridge
