#include "agent/llm/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

namespace latentbus::agent::llm {
namespace {

TEST(SamplerTest, GreedyPicksTheArgmaxAndTheLowestIdOnTies) {
  Sampler s(0.0f, 1.0f, 1);
  EXPECT_EQ(s.Next(std::vector<float>{0.1f, 3.0f, -2.0f, 2.9f}), 1);
  EXPECT_EQ(s.Next(std::vector<float>{5.0f, 1.0f, 5.0f}), 0);
}

TEST(SamplerTest, SeededSamplingIsReproducible) {
  const std::vector<float> logits = {1.0f, 1.2f, 0.8f, 1.1f, 0.9f};
  Sampler a(1.0f, 1.0f, 42), b(1.0f, 1.0f, 42), c(1.0f, 1.0f, 43);
  std::vector<int32_t> xa, xb, xc;
  for (int i = 0; i < 50; ++i) {
    xa.push_back(a.Next(logits));
    xb.push_back(b.Next(logits));
    xc.push_back(c.Next(logits));
  }
  EXPECT_EQ(xa, xb);
  EXPECT_NE(xa, xc);
}

TEST(SamplerTest, FrequenciesFollowTheSoftmax) {
  // p = softmax([log 1, log 3]) = [0.25, 0.75].
  const std::vector<float> logits = {0.0f, static_cast<float>(std::log(3.0))};
  Sampler s(1.0f, 1.0f, 7);
  int ones = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) ones += s.Next(logits) == 1;
  EXPECT_NEAR(static_cast<double>(ones) / n, 0.75, 0.02);
}

TEST(SamplerTest, TopPDropsTheTail) {
  // Probabilities ~ [0.6, 0.3, 0.1]: top_p = 0.8 keeps ids 0 and 1 only.
  const std::vector<float> logits = {static_cast<float>(std::log(0.6)),
                                     static_cast<float>(std::log(0.3)),
                                     static_cast<float>(std::log(0.1))};
  Sampler s(1.0f, 0.8f, 3);
  std::map<int32_t, int> seen;
  for (int i = 0; i < 5000; ++i) ++seen[s.Next(logits)];
  EXPECT_EQ(seen.count(2), 0u);
  EXPECT_GT(seen[1], 1000);
}

}  // namespace
}  // namespace latentbus::agent::llm
