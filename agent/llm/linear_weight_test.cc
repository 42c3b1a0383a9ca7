// LinearWeight::ApplyRows against ApplyRow one weight at a time: the same floats, bit for
// bit (each output row is one kernel call either way), for packed int8 and int4 weights,
// with and without int8 activations, a float32 weight in the list, and biases; on two
// threads, so that a thread's part of the joint rows spans several matrices.
#include "agent/llm/linear_weight.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "codec/half.h"

namespace latentbus::agent::llm {
namespace {

// A packed weight of `rows` x `cols` from random Q8_0 (int8 layout) or Q4_1 (int4) blocks.
std::shared_ptr<const PackedMatrix> RandomPacked(bool int4, size_t rows, size_t cols,
                                                 std::mt19937& rng) {
  const size_t block_bytes = int4 ? 20 : 34, blocks = rows * cols / 32;
  std::vector<uint8_t> data(blocks * block_bytes);
  for (uint8_t& b : data) b = static_cast<uint8_t>(rng());
  std::uniform_real_distribution<float> scale(-0.05f, 0.05f);
  for (size_t i = 0; i < blocks; ++i) {
    uint8_t* b = data.data() + i * block_bytes;
    for (int h = 0; h < (int4 ? 2 : 1); ++h) {  // d (and m for Q4_1): finite fp16
      const uint16_t half = codec::FloatToHalf(scale(rng));
      std::memcpy(b + 2 * h, &half, 2);
    }
  }
  absl::StatusOr<PackedMatrix> m = PackedMatrix::FromGguf(
      int4 ? gguf::GgmlType::kQ4_1 : gguf::GgmlType::kQ8_0, data.data(), rows, cols);
  EXPECT_TRUE(m.ok()) << m.status();
  return std::make_shared<const PackedMatrix>(*std::move(m));
}

TEST(LinearWeightTest, ApplyRowsGivesWhatApplyRowGivesForEachWeight) {
  SetPackedKernelThreads(2);
  torch::manual_seed(3);
  std::mt19937 rng(3);
  const size_t cols = 256;
  std::vector<float> x(cols);
  std::normal_distribution<float> normal;
  for (float& v : x) v = normal(rng);
  for (bool int8_activations : {false, true}) {
    SCOPED_TRACE(int8_activations ? "int8 activations" : "float activations");
    // Row counts that do not divide evenly between two threads.
    const LinearWeight a(RandomPacked(false, 96, cols, rng), int8_activations);
    const LinearWeight b(RandomPacked(true, 200, cols, rng), int8_activations);
    const LinearWeight c(torch::randn({40, static_cast<int64_t>(cols)}));
    const LinearWeight d(RandomPacked(true, 72, cols, rng), int8_activations);
    const torch::Tensor bias_b = torch::randn({200}), bias_c = torch::randn({40});
    std::vector<float> ya(96), yb(200), yc(40), yd(72);
    const ActivationRow row(x.data(), cols);
    LinearWeight::ApplyRows(
        row,
        {{&a, ya.data()}, {&b, yb.data(), &bias_b}, {&c, yc.data(), &bias_c}, {&d, yd.data()}});
    auto expect_same = [&](const LinearWeight& w, const std::vector<float>& got,
                           const torch::Tensor& bias, const char* name) {
      std::vector<float> want(got.size());
      const ActivationRow fresh(x.data(), cols);
      w.ApplyRow(fresh, want.data(), bias);
      EXPECT_EQ(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0) << name;
    };
    expect_same(a, ya, torch::Tensor(), "int8 weight");
    expect_same(b, yb, bias_b, "int4 weight with a bias");
    expect_same(c, yc, bias_c, "float32 weight with a bias");
    expect_same(d, yd, torch::Tensor(), "int4 weight");
    // The bias was added: without it the int4 product differs by exactly the bias.
    std::vector<float> plain(200);
    b.ApplyRow(ActivationRow(x.data(), cols), plain.data());
    const float bias7 = bias_b[7].item<float>();  // y = product + bias, one rounding
    EXPECT_NEAR(yb[7] - plain[7], bias7, 1e-6f * (std::fabs(plain[7]) + std::fabs(bias7)));
  }
  SetPackedKernelThreads(1);
}

}  // namespace
}  // namespace latentbus::agent::llm
