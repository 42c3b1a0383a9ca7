// The runtime's forward pass with autograd on, as bridge training uses it: the same
// logits as the inference path, and gradients with respect to spliced soft tokens that
// agree with finite differences, on the tiny random Llama and Gemma 3 checkpoints.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "agent/llm/model.h"
#include "agent/llm/model_internals.h"

namespace latentbus::agent::llm {
namespace {

const std::string kTestdata = LATENTBUS_LLM_TESTDATA;

class DifferentiableTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    LoadOptions options;
    options.threads = 1;
    options.keep_quantized = false;  // float32 weights, as training loads them
    absl::StatusOr<std::unique_ptr<Model>> m = Model::Load(kTestdata + "/" + GetParam(), options);
    ASSERT_TRUE(m.ok()) << m.status();
    model_ = *std::move(m);
    d_ = model_->info().embedding_size;
    torch::manual_seed(7);
    // Soft rows of about the size of the model's own embeddings.
    absl::StatusOr<codec::Tensor> own = model_->EmbedTokens({5, 6, 7, 8, 9});
    ASSERT_TRUE(own.ok());
    const torch::Tensor own_rows = torch::from_blob(own->data.data(), {5, d_}).clone();
    soft_ = own_rows + 0.5 * own_rows.std() * torch::randn({5, d_});
  }

  std::vector<PromptSegment> Prompt() const {
    codec::Tensor placeholder;
    placeholder.shape = {5, static_cast<uint32_t>(d_)};
    placeholder.data.assign(soft_.data_ptr<float>(), soft_.data_ptr<float>() + soft_.numel());
    return {PromptSegment::Tokens({1, 20, 21}), PromptSegment::Embeddings(placeholder),
            PromptSegment::Tokens({30, 31, 32, 33})};
  }

  // sum(logits at rows 7..11 * weights): a scalar with a gradient at every soft row.
  torch::Tensor Loss(const torch::Tensor& soft, const torch::Tensor& weights) const {
    absl::StatusOr<torch::Tensor> x =
        ModelInternals::PromptEmbeddings(*model_, Prompt(), /*add_bos=*/false, {soft});
    EXPECT_TRUE(x.ok()) << x.status();
    const Transformer& t = ModelInternals::transformer(*model_);
    const torch::Tensor rows = torch::arange(7, 12, torch::kInt64);
    return (t.Head(t.FinalHidden(*x).index_select(0, rows)) * weights).sum();
  }

  std::unique_ptr<Model> model_;
  int64_t d_ = 0;
  torch::Tensor soft_;
};

TEST_P(DifferentiableTest, SameLogitsAsTheInferencePath) {
  absl::StatusOr<ForwardResult> ref = model_->Forward(Prompt(), {}, /*all_logits=*/true, false);
  ASSERT_TRUE(ref.ok()) << ref.status();
  const torch::Tensor soft = soft_.clone().requires_grad_(true);
  absl::StatusOr<torch::Tensor> x =
      ModelInternals::PromptEmbeddings(*model_, Prompt(), /*add_bos=*/false, {soft});
  ASSERT_TRUE(x.ok()) << x.status();
  const Transformer& t = ModelInternals::transformer(*model_);
  const torch::Tensor logits = t.Head(t.FinalHidden(*x));
  ASSERT_TRUE(logits.requires_grad());
  ASSERT_EQ(logits.size(0), 12);
  const torch::Tensor want =
      torch::from_blob(ref->logits.data.data(), {12, logits.size(1)}, torch::kFloat32);
  EXPECT_LT((logits.detach() - want).abs().max().item<double>(), 1e-4);
}

TEST_P(DifferentiableTest, GradientMatchesFiniteDifferences) {
  const torch::Tensor weights = torch::randn({5, model_->info().vocab_size});
  const torch::Tensor soft = soft_.clone().requires_grad_(true);
  Loss(soft, weights).backward();
  ASSERT_TRUE(soft.grad().defined());
  const torch::Tensor grad = soft.grad().clone();
  ASSERT_GT(grad.abs().max().item<double>(), 0.0);
  // Frozen weights: nothing in the model keeps a gradient.
  const Transformer& t = ModelInternals::transformer(*model_);
  EXPECT_FALSE(t.weights().token_embd.dense().requires_grad());
  EXPECT_FALSE(t.weights().token_embd.dense().grad().defined());
  // Directional derivatives along random directions, central differences in float32.
  torch::NoGradGuard no_grad;
  for (int trial = 0; trial < 3; ++trial) {
    torch::Tensor dir = torch::randn_like(soft_);
    dir = dir / dir.norm() * soft_.norm() * 1e-3;
    const double plus = Loss(soft_ + dir, weights).item<double>();
    const double minus = Loss(soft_ - dir, weights).item<double>();
    const double numeric = (plus - minus) / 2.0;
    const double analytic = (grad * dir).sum().item<double>();
    EXPECT_NEAR(analytic, numeric, 0.02 * std::fabs(numeric) + 1e-3)
        << "trial " << trial << ": analytic " << analytic << " numeric " << numeric;
  }
  // Every soft row reaches the loss rows (7..11) through attention.
  for (int64_t r = 0; r < 5; ++r) EXPECT_GT(grad.select(0, r).abs().sum().item<double>(), 0.0);
}

INSTANTIATE_TEST_SUITE_P(TinyModels, DifferentiableTest,
                         ::testing::Values("tiny-llama", "tiny-gemma3"));

}  // namespace
}  // namespace latentbus::agent::llm
