// The runtime on the two real models against Hugging Face transformers run on the same
// GGUF weights (fixtures from scripts/fixtures/make_model_fixtures.py), plus the exact
// embedding splice and input validation.
#include "agent/llm/model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <ostream>

#include "agent/gguf/gguf_file.h"
#include "agent/llm/fingerprint.h"
#include "agent/model_cache/model_cache.h"
#include "nlohmann/json.hpp"

namespace latentbus::agent::llm {
namespace {

struct RealModel {
  const char* file;
  const char* reference;
  // Tolerances against transformers (both float32; they differ only in the order of
  // floating-point operations and BLAS kernels).
  double logit_atol;
  double hidden_rel;
};

const RealModel kModels[] = {
    // Measured here: max |logit diff| <= 1e-4 and hidden-state error ~2e-6 (the fixtures
    // keep 6 significant digits, which sets that floor).
    {kSmolLm2File, "smollm2.reference.json", 5e-4, 2e-5},
    {kGemma3File, "gemma3.reference.json", 5e-4, 2e-5},
};

void PrintTo(const RealModel& m, std::ostream* os) { *os << m.file; }

// Loads each model once per test binary (loading dequantizes every weight).
const Model& Load(const RealModel& m) {
  static std::map<std::string, std::unique_ptr<Model>>* cache =
      new std::map<std::string, std::unique_ptr<Model>>();
  auto it = cache->find(m.file);
  if (it == cache->end()) {
    const std::string path = ModelCachePath(m.file);
    if (!std::ifstream(path)) {
      ADD_FAILURE() << path << " is missing: run scripts/fetch-models.sh";
      std::abort();
    }
    LoadOptions options;
    options.threads = 1;  // ctest runs tests in parallel on 2 cores: no oversubscription
    absl::StatusOr<std::unique_ptr<Model>> model = Model::Load(path, options);
    if (!model.ok()) {
      ADD_FAILURE() << model.status();
      std::abort();
    }
    it = cache->emplace(m.file, *std::move(model)).first;
  }
  return *it->second;
}

nlohmann::json Reference(const RealModel& m) {
  std::ifstream in(std::string(LATENTBUS_LLM_TESTDATA) + "/" + m.reference);
  EXPECT_TRUE(in.good()) << m.reference;
  return nlohmann::json::parse(in);
}

std::vector<int32_t> Ids(const nlohmann::json& j) { return j.get<std::vector<int32_t>>(); }

class RealModelTest : public ::testing::TestWithParam<RealModel> {};

TEST_P(RealModelTest, LogitsAndHiddenStatesMatchTransformers) {
  const Model& model = Load(GetParam());
  const nlohmann::json ref = Reference(GetParam());
  ASSERT_EQ(ref["cases"].size(), 3u);
  for (const auto& c : ref["cases"]) {
    const std::vector<int32_t> ids = Ids(c["token_ids"]);
    const std::vector<int> layers = c["hidden_layers"].get<std::vector<int>>();
    // Long prompts: logits of the last position only (all positions of a 262k vocabulary
    // would be a 1.2 GB tensor); the hidden states still come from every layer asked.
    const bool all_logits = ids.size() <= 64;
    absl::StatusOr<ForwardResult> r =
        model.Forward({PromptSegment::Tokens(ids)}, layers, all_logits);
    ASSERT_TRUE(r.ok()) << r.status();
    const size_t vocab = r->logits.shape[1];
    ASSERT_EQ(r->logits.shape[0], all_logits ? ids.size() : 1u);
    const auto probes = c["probe_ids"].get<std::vector<int>>();
    const auto positions = c["probe_positions"].get<std::vector<size_t>>();
    double worst = 0;
    size_t compared = 0;
    for (size_t pi = 0; pi < positions.size(); ++pi) {
      const size_t pos = positions[pi];
      if (!all_logits && pos + 1 != ids.size()) continue;
      ++compared;
      const size_t row = all_logits ? pos : 0;
      const auto want = c["probe_logits"][pi].get<std::vector<double>>();
      for (size_t k = 0; k < probes.size(); ++k) {
        const double got = r->logits.data[row * vocab + static_cast<size_t>(probes[k])];
        worst = std::max(worst, std::fabs(got - want[k]));
      }
    }
    ASSERT_GT(compared, 0u) << "no probed position to compare on " << c["prompt"];
    EXPECT_LT(worst, GetParam().logit_atol) << "max |logit diff| on " << c["prompt"];
    // The five best next tokens, in order.
    const auto top = c["top_ids"].get<std::vector<int>>();
    const float* last = r->logits.data.data() + (r->logits.shape[0] - 1) * vocab;
    std::vector<int> order(vocab);
    for (size_t i = 0; i < vocab; ++i) order[i] = static_cast<int>(i);
    std::partial_sort(order.begin(), order.begin() + 5, order.end(),
                      [&](int a, int b) { return last[a] > last[b]; });
    for (int k = 0; k < 5; ++k) EXPECT_EQ(order[k], top[k]) << "rank " << k;

    ASSERT_EQ(r->hidden.size(), layers.size());
    for (size_t li = 0; li < layers.size(); ++li) {
      const auto want = c["hidden"][std::to_string(layers[li])];
      ASSERT_FALSE(want.empty()) << "layer " << layers[li];
      const codec::Tensor& h = r->hidden[li];
      ASSERT_EQ(h.shape[0], ids.size());
      const size_t d = h.shape[1];
      double err = 0, norm = 0;
      for (size_t pos = 0; pos < want.size(); ++pos) {
        const auto row = want[pos].get<std::vector<double>>();
        ASSERT_EQ(row.size(), d);
        for (size_t j = 0; j < d; ++j) {
          const double diff = h.data[pos * d + j] - row[j];
          err += diff * diff;
          norm += row[j] * row[j];
        }
      }
      EXPECT_LT(std::sqrt(err / norm), GetParam().hidden_rel) << "layer " << layers[li];
    }
  }
}

TEST_P(RealModelTest, GreedyContinuationMatchesTransformers) {
  const Model& model = Load(GetParam());
  const nlohmann::json ref = Reference(GetParam());
  ASSERT_EQ(ref["cases"].size(), 3u);
  for (const auto& c : ref["cases"]) {
    GenerateOptions options;
    options.max_new_tokens = static_cast<int>(c["greedy_ids"].size());
    absl::StatusOr<GenerateResult> r =
        model.Generate({PromptSegment::Tokens(Ids(c["token_ids"]))}, options);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->tokens, Ids(c["greedy_ids"])) << c["prompt"] << " -> " << r->text;
  }
}

// A prompt whose embedding segment holds the model's own token embeddings of a text
// gives exactly the logits of that text given as tokens.
TEST_P(RealModelTest, EmbeddingSpliceIsExact) {
  const Model& model = Load(GetParam());
  const nlohmann::json ref = Reference(GetParam());
  const std::vector<int32_t> ids = Ids(ref["cases"][0]["token_ids"]);
  ASSERT_GT(ids.size(), 2u);
  absl::StatusOr<codec::Tensor> emb = model.EmbedTokens(ids);
  ASSERT_TRUE(emb.ok()) << emb.status();
  ASSERT_EQ(emb->shape, (std::vector<uint32_t>{static_cast<uint32_t>(ids.size()),
                                               static_cast<uint32_t>(model.info().hidden_size)}));
  const std::vector<int32_t> head(ids.begin(), ids.begin() + 1);
  const std::vector<int32_t> tail(ids.begin() + 1, ids.end());
  absl::StatusOr<codec::Tensor> tail_emb = model.EmbedTokens(tail);
  ASSERT_TRUE(tail_emb.ok());
  absl::StatusOr<ForwardResult> as_tokens =
      model.Forward({PromptSegment::Tokens(ids)}, {}, /*all_logits=*/true);
  absl::StatusOr<ForwardResult> spliced =
      model.Forward({PromptSegment::Tokens(head), PromptSegment::Embeddings(*tail_emb)}, {}, true);
  ASSERT_TRUE(as_tokens.ok() && spliced.ok());
  EXPECT_EQ(as_tokens->logits.data, spliced->logits.data);
}

TEST_P(RealModelTest, IdentityAndErrors) {
  const Model& model = Load(GetParam());
  const ModelInfo& info = model.info();
  absl::StatusOr<std::unique_ptr<gguf::GgufFile>> again = gguf::GgufFile::Open(info.path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(GgufFingerprint(**again), info.fingerprint);
  EXPECT_EQ(info.fingerprint.size(), 16u);
  EXPECT_GT(info.num_parameters, 100000000u);

  const std::vector<int32_t> ids = {1, 2, 3};
  EXPECT_FALSE(
      model.Forward({PromptSegment::Tokens(ids)}, {static_cast<int>(info.num_layers) + 1}, false)
          .ok());
  EXPECT_FALSE(
      model.Forward({PromptSegment::Tokens({static_cast<int32_t>(info.vocab_size)})}, {}, false)
          .ok());
  codec::Tensor wrong;
  wrong.shape = {2, 7};
  wrong.data.assign(14, 0.0f);
  absl::StatusOr<ForwardResult> r = model.Forward({PromptSegment::Embeddings(wrong)}, {}, false);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("needs [n, "), std::string::npos) << r.status();
  codec::Tensor nan;
  nan.shape = {1, static_cast<uint32_t>(info.hidden_size)};
  nan.data.assign(info.hidden_size, std::nanf(""));
  EXPECT_FALSE(model.Forward({PromptSegment::Embeddings(nan)}, {}, false).ok());
  EXPECT_FALSE(model.Forward({}, {}, false).ok());
}

INSTANTIATE_TEST_SUITE_P(RealModels, RealModelTest, ::testing::ValuesIn(kModels),
                         [](const auto& p) {
                           const std::string name = p.param.reference;
                           return name.substr(0, name.find('.'));
                         });

}  // namespace
}  // namespace latentbus::agent::llm
