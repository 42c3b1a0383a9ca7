#include "bridge/fit.h"

#include <cmath>
#include <random>

#include "bridge/bridge.h"
#include "bridge/fidelity.h"
#include "gtest/gtest.h"

namespace latentbus::bridge {
namespace {

using Matrix = std::vector<std::vector<double>>;

Matrix RandomOrthogonal(int n, std::mt19937* rng) {
  std::normal_distribution<double> g;
  Matrix q(n, std::vector<double>(n));
  for (auto& row : q) {
    for (double& v : row) v = g(*rng);
  }
  for (int i = 0; i < n; ++i) {  // Gram-Schmidt on rows
    for (int j = 0; j < i; ++j) {
      double dot = 0;
      for (int k = 0; k < n; ++k) dot += q[i][k] * q[j][k];
      for (int k = 0; k < n; ++k) q[i][k] -= dot * q[j][k];
    }
    double norm = 0;
    for (double v : q[i]) norm += v * v;
    for (double& v : q[i]) v /= std::sqrt(norm);
  }
  return q;
}

// n pairs y = f(x) + noise, x Gaussian with mean `offset`; `map` is ds x dt.
WordPairs Synthetic(int n, const Matrix& map, double offset, double noise, uint32_t seed,
                    uint32_t first_item) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> g;
  const int ds = static_cast<int>(map.size()), dt = static_cast<int>(map[0].size());
  WordPairs p;
  p.src_width = ds;
  p.dst_width = dt;
  for (int i = 0; i < n; ++i) {
    std::vector<double> x(ds);
    for (double& v : x) v = g(rng);
    for (int k = 0; k < ds; ++k) p.src.push_back(static_cast<float>(x[k] + offset));
    for (int j = 0; j < dt; ++j) {
      double y = 0;
      for (int k = 0; k < ds; ++k) y += x[k] * map[k][j];
      p.dst.push_back(static_cast<float>(y + 0.5 + noise * g(rng)));
    }
    p.item.push_back(first_item + static_cast<uint32_t>(i / 4));
    p.words.push_back("w" + std::to_string(first_item * 4 + i));
  }
  return p;
}

// Held-out fidelity of a bridge fitted on `train`.
Fidelity FitAndMeasure(const WordPairs& train, const WordPairs& test, const std::string& kind) {
  FitOptions options;
  options.kind = kind;
  absl::StatusOr<BridgeArtifact> artifact = FitOnPairs(train, options);
  EXPECT_TRUE(artifact.ok()) << artifact.status();
  absl::StatusOr<std::unique_ptr<Bridge>> bridge = Bridge::FromArtifact(*artifact);
  EXPECT_TRUE(bridge.ok()) << bridge.status();
  codec::Tensor in;
  in.shape = {static_cast<uint32_t>(test.size()), static_cast<uint32_t>(test.src_width)};
  in.data = test.src;
  absl::StatusOr<codec::Tensor> out = (*bridge)->Apply(in);
  EXPECT_TRUE(out.ok()) << out.status();
  absl::StatusOr<Fidelity> f = MeasureFidelity(test, out->data);
  EXPECT_TRUE(f.ok()) << f.status();
  return *f;
}

TEST(FitTest, AffineRecoversARandomLinearMap) {
  std::mt19937 rng(1);
  std::normal_distribution<double> g;
  Matrix map(24, std::vector<double>(32));
  for (auto& row : map) {
    for (double& v : row) v = g(rng) * (1.0 + (&row - &map[0]) % 3);
  }
  const Fidelity f = FitAndMeasure(Synthetic(2000, map, 3.0, 0.3, 2, 0),
                                   Synthetic(400, map, 3.0, 0.3, 3, 1000), "affine");
  EXPECT_GT(f.cosine, 0.98);
  EXPECT_GT(f.word_top1, 0.95);
  // An unrelated target is not recovered: the test can fail.
  Matrix other(24, std::vector<double>(32));
  for (auto& row : other) {
    for (double& v : row) v = g(rng);
  }
  WordPairs wrong = Synthetic(400, other, 3.0, 0.3, 3, 1000);
  const Fidelity bad = FitAndMeasure(Synthetic(2000, map, 3.0, 0.3, 2, 0), wrong, "affine");
  EXPECT_LT(bad.word_top1, 0.2);
}

TEST(FitTest, UnseenWordRetrievalCountsOnlyWordsAbsentFromTraining) {
  Matrix identity(16, std::vector<double>(16, 0.0));
  for (int i = 0; i < 16; ++i) identity[i][i] = 1.0;
  WordPairs test = Synthetic(40, identity, 0.0, 0.0, 7, 0);  // words w0 .. w39
  absl::flat_hash_set<std::string> train;
  for (int i = 0; i < 30; ++i) train.insert("w" + std::to_string(i));
  // A perfect translation finds every unseen word; a shuffled one (each row moved to the
  // next) finds none of them.
  absl::StatusOr<Fidelity> perfect = MeasureFidelity(test, test.dst, &train);
  ASSERT_TRUE(perfect.ok()) << perfect.status();
  EXPECT_EQ(perfect->unseen_words, 10);
  EXPECT_DOUBLE_EQ(perfect->unseen_word_top1, 1.0);
  std::vector<float> shifted(test.dst.begin() + 16, test.dst.end());
  shifted.insert(shifted.end(), test.dst.begin(), test.dst.begin() + 16);
  absl::StatusOr<Fidelity> wrong = MeasureFidelity(test, shifted, &train);
  ASSERT_TRUE(wrong.ok());
  EXPECT_LT(wrong->unseen_word_top1, 0.2);
  // Without the training words the metric is not computed.
  EXPECT_EQ(MeasureFidelity(test, test.dst)->unseen_words, 0);
}

TEST(FitTest, ProcrustesRecoversAScaledRotationAcrossWidths) {
  std::mt19937 rng(5);
  for (auto [ds, dt] : {std::pair{32, 32}, std::pair{24, 32}, std::pair{32, 24}}) {
    const int k = std::max(ds, dt);
    Matrix q = RandomOrthogonal(k, &rng);
    Matrix map(ds, std::vector<double>(dt));
    for (int i = 0; i < ds; ++i) {
      for (int j = 0; j < dt; ++j) map[i][j] = 2.5 * q[i][j];
    }
    const Fidelity f = FitAndMeasure(Synthetic(3000, map, 0.0, 0.1, 7, 0),
                                     Synthetic(400, map, 0.0, 0.1, 8, 2000), "procrustes");
    // Truncation loses part of the signal when ds > dt; padding loses nothing.
    EXPECT_GT(f.cosine, ds > dt ? 0.7 : 0.97) << ds << "->" << dt;
    EXPECT_GT(f.word_top1, 0.9) << ds << "->" << dt;
    EXPECT_GT(f.spectrum_corr_translated, 0.9);
  }
}

TEST(FitTest, SelfFitsLikeAffineAndRefusesUnknownKinds) {
  std::mt19937 rng(9);
  std::normal_distribution<double> g;
  Matrix map(16, std::vector<double>(16));
  for (auto& row : map) {
    for (double& v : row) v = g(rng);
  }
  const Fidelity f = FitAndMeasure(Synthetic(1000, map, 1.0, 0.1, 10, 0),
                                   Synthetic(200, map, 1.0, 0.1, 11, 500), "self");
  EXPECT_GT(f.cosine, 0.99);
  FitOptions options;
  options.kind = "resampler";
  EXPECT_FALSE(FitOnPairs(Synthetic(10, map, 0, 0, 1, 0), options).ok());
}

}  // namespace
}  // namespace latentbus::bridge
