// Fast tests of the runtime on tiny random Llama and Gemma 3 checkpoints in Hugging Face
// format (scripts/fixtures/make_tiny_models.py): the safetensors path, sharding, both
// architectures (Gemma's sliding window of 4 is exercised by a 12-token prompt) against
// transformers' outputs on the same weights.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "agent/llm/model.h"
#include "codec/packet.h"
#include "nlohmann/json.hpp"

namespace latentbus::agent::llm {
namespace {

const std::string kTestdata = LATENTBUS_LLM_TESTDATA;

nlohmann::json Reference(const std::string& name) {
  std::ifstream in(kTestdata + "/" + name + "/reference.json");
  return nlohmann::json::parse(in);
}

class TinyModelTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    LoadOptions options;
    options.threads = 1;
    absl::StatusOr<std::unique_ptr<Model>> m = Model::Load(kTestdata + "/" + GetParam(), options);
    ASSERT_TRUE(m.ok()) << m.status();
    model_ = *std::move(m);
    ref_ = Reference(GetParam());
  }
  std::unique_ptr<Model> model_;
  nlohmann::json ref_;
};

TEST_P(TinyModelTest, MatchesTransformersAtEveryLayer) {
  const auto ids = ref_["token_ids"].get<std::vector<int32_t>>();
  const auto layers = ref_["hidden_layers"].get<std::vector<int>>();
  absl::StatusOr<ForwardResult> r = model_->Forward({PromptSegment::Tokens(ids)}, layers, true);
  ASSERT_TRUE(r.ok()) << r.status();
  const auto logits = ref_["logits"].get<std::vector<std::vector<double>>>();
  ASSERT_EQ(r->logits.shape, (std::vector<uint32_t>{static_cast<uint32_t>(ids.size()), 320u}));
  ASSERT_EQ(logits.size(), ids.size());
  ASSERT_EQ(r->hidden.size(), layers.size());
  double worst = 0;
  for (size_t p = 0; p < logits.size(); ++p) {
    ASSERT_EQ(logits[p].size(), 320u);
    for (size_t v = 0; v < logits[p].size(); ++v) {
      worst = std::max(worst, std::fabs(r->logits.data[p * 320 + v] - logits[p][v]));
    }
  }
  EXPECT_LT(worst, 1e-4);
  for (size_t li = 0; li < layers.size(); ++li) {
    const auto want = ref_["hidden"][li].get<std::vector<std::vector<double>>>();
    ASSERT_EQ(want.size(), ids.size());
    double err = 0, norm = 0;
    for (size_t p = 0; p < want.size(); ++p) {
      for (size_t j = 0; j < want[p].size(); ++j) {
        const double d = r->hidden[li].data[p * 64 + j] - want[p][j];
        err += d * d;
        norm += want[p][j] * want[p][j];
      }
    }
    EXPECT_LT(std::sqrt(err / norm), 1e-5) << "layer " << layers[li];
  }
}

// The checkpoints are float16: their matrices stay 16-bit by default (half the bytes of
// float32; the tests above check that path against transformers), float32 when asked
// (what training loads).
TEST_P(TinyModelTest, SixteenBitMatricesStaySixteenBit) {
  EXPECT_TRUE(model_->info().quantized);
  LoadOptions options;
  options.threads = 1;
  options.keep_quantized = false;
  absl::StatusOr<std::unique_ptr<Model>> dense = Model::Load(kTestdata + "/" + GetParam(), options);
  ASSERT_TRUE(dense.ok()) << dense.status();
  const ModelInfo& f32 = (*dense)->info();
  EXPECT_FALSE(f32.quantized);
  EXPECT_EQ(f32.weight_bytes, 4 * f32.num_parameters);
  EXPECT_EQ(model_->info().num_parameters, f32.num_parameters);
  // The 1-D norms stay float32: a little over half.
  EXPECT_LT(model_->info().weight_bytes, 0.52 * f32.weight_bytes);
  EXPECT_GT(model_->info().weight_bytes, 0.5 * f32.weight_bytes);
}

TEST_P(TinyModelTest, GreedyGenerationMatchesTransformers) {
  GenerateOptions options;
  options.max_new_tokens = 8;
  options.ignore_eos = true;
  absl::StatusOr<GenerateResult> r = model_->Generate(
      {PromptSegment::Tokens(ref_["token_ids"].get<std::vector<int32_t>>())}, options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->tokens, ref_["greedy_ids"].get<std::vector<int32_t>>());
  EXPECT_EQ(r->stop_reason, "max_tokens");
}

TEST_P(TinyModelTest, SplicedEmbeddingsGiveTheSameLogits) {
  const auto ids = ref_["token_ids"].get<std::vector<int32_t>>();
  const std::vector<int32_t> head(ids.begin(), ids.begin() + 3), tail(ids.begin() + 3, ids.end());
  absl::StatusOr<codec::Tensor> tail_emb = model_->EmbedTokens(tail);
  ASSERT_TRUE(tail_emb.ok());
  absl::StatusOr<ForwardResult> a = model_->Forward({PromptSegment::Tokens(ids)}, {}, true);
  absl::StatusOr<ForwardResult> b = model_->Forward(
      {PromptSegment::Tokens(head), PromptSegment::Embeddings(*tail_emb)}, {}, true);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->logits.data, b->logits.data);
}

// EncodeLatent is Encode then the codec (here on the CPU; on a GPU the device codec, whose
// bytes scripts/cuda checks), and a latent segment splices what its decoded rows splice.
TEST_P(TinyModelTest, LatentsEncodeAndSpliceAsTheirTensors) {
  const std::string text = "latents carry the message";
  for (const char* name : {"int4/g32", "int8/g64+rot64", "fp16"}) {
    const codec::Encoding e = *codec::ParseEncoding(name);
    absl::StatusOr<LatentResult> latent = model_->EncodeLatent(text, 1, e);
    ASSERT_TRUE(latent.ok()) << name << ": " << latent.status();
    EXPECT_FALSE(latent->on_device);
    absl::StatusOr<EncodeResult> enc = model_->Encode(text, {1});
    ASSERT_TRUE(enc.ok());
    EXPECT_EQ(latent->token_ids, enc->token_ids);
    codec::Tensor h = enc->hidden[0];
    absl::StatusOr<EncodeResult> bos = model_->Tokenize("", true);
    ASSERT_TRUE(bos.ok());
    if (!bos->token_ids.empty() && enc->token_ids[0] == bos->token_ids[0]) {  // drop BOS's row
      h.data.erase(h.data.begin(), h.data.begin() + h.shape[1]);
      h.shape[0] -= 1;
    }
    absl::StatusOr<codec::Packet> want = codec::Encode(h, e);
    ASSERT_TRUE(want.ok());
    EXPECT_EQ(latent->packet.shape, want->shape) << name;
    EXPECT_TRUE(latent->packet.payload == want->payload) << name;
    EXPECT_TRUE(latent->packet.scales == want->scales) << name;
    EXPECT_EQ(latent->packet.checksum, want->checksum) << name;
    absl::StatusOr<LatentResult> with_bos = model_->EncodeLatent(text, 1, e, false);
    ASSERT_TRUE(with_bos.ok());
    EXPECT_EQ(with_bos->packet.shape[0], enc->token_ids.size()) << name;

    // As soft tokens (the width is the embedding size here): the same logits as the
    // decoded rows spliced as embeddings.
    absl::StatusOr<codec::Tensor> rows = codec::Decode(latent->packet);
    ASSERT_TRUE(rows.ok());
    absl::StatusOr<ForwardResult> a = model_->Forward(
        {PromptSegment::Text("say: "), PromptSegment::Embeddings(*rows)}, {}, false);
    absl::StatusOr<ForwardResult> b = model_->Forward(
        {PromptSegment::Text("say: "), PromptSegment::Latent(latent->packet)}, {}, false);
    ASSERT_TRUE(a.ok() && b.ok()) << a.status() << b.status();
    EXPECT_EQ(a->logits.data, b->logits.data) << name;
  }
  // A damaged packet, or one of another width, is refused with the codec's reason.
  absl::StatusOr<LatentResult> latent = model_->EncodeLatent(text, 1, codec::DefaultEncoding());
  ASSERT_TRUE(latent.ok());
  codec::Packet damaged = latent->packet;
  damaged.payload[0] ^= 0x40;
  absl::StatusOr<ForwardResult> bad = model_->Forward({PromptSegment::Latent(damaged)}, {}, false);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kDataLoss) << bad.status();
  absl::StatusOr<codec::Packet> narrow =
      codec::Encode(codec::Tensor{{2, 8}, std::vector<float>(16, 1.0f)}, codec::DefaultEncoding());
  ASSERT_TRUE(narrow.ok());
  bad = model_->Forward({PromptSegment::Latent(*narrow)}, {}, false);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument) << bad.status();
  EXPECT_FALSE(model_->EncodeLatent("", 1, codec::DefaultEncoding()).ok());
  EXPECT_FALSE(model_->EncodeLatent(text, 99, codec::DefaultEncoding()).ok());
}

TEST_P(TinyModelTest, TextPromptsUseTheTokenizer) {
  absl::StatusOr<EncodeResult> enc = model_->Tokenize("latentbus carries soft tokens", false);
  ASSERT_TRUE(enc.ok()) << enc.status();
  ASSERT_FALSE(enc->token_ids.empty());
  EXPECT_EQ(enc->spans.front().first, 0u);
  EXPECT_EQ(enc->spans.back().second, 29u);
  absl::StatusOr<std::string> text = model_->Detokenize(enc->token_ids);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "latentbus carries soft tokens");
  absl::StatusOr<EncodeResult> hidden = model_->Encode("soft tokens", {0, 1}, false);
  ASSERT_TRUE(hidden.ok()) << hidden.status();
  ASSERT_EQ(hidden->hidden.size(), 2u);
  EXPECT_EQ(hidden->hidden[1].shape[0], hidden->token_ids.size());
  EXPECT_EQ(hidden->hidden[1].shape[1], 64u);
}

INSTANTIATE_TEST_SUITE_P(Tiny, TinyModelTest, ::testing::Values("tiny-llama", "tiny-gemma3"),
                         [](const auto& p) {
                           return std::string(p.param) == "tiny-llama" ? "llama" : "gemma3";
                         });

// Copies a tiny model folder into a temp dir for corruption tests.
std::string CopyOf(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/lb_" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::copy(kTestdata + "/" + name, dir);
  return dir;
}

TEST(TinyModelErrorsTest, MissingOrBrokenFilesGiveClearErrors) {
  std::string dir = CopyOf("tiny-llama");
  std::filesystem::remove(dir + "/config.json");
  absl::StatusOr<std::unique_ptr<Model>> m = Model::Load(dir);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("config.json"), std::string::npos) << m.status();

  dir = CopyOf("tiny-llama");
  std::filesystem::resize_file(dir + "/model.safetensors", 1000);
  m = Model::Load(dir);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("model.safetensors"), std::string::npos) << m.status();

  dir = CopyOf("tiny-llama");
  {
    std::ifstream in(dir + "/config.json");
    nlohmann::json config = nlohmann::json::parse(in);
    config["hidden_size"] = 96;
    std::ofstream(dir + "/config.json") << config.dump();
  }
  m = Model::Load(dir);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("embed_tokens"), std::string::npos) << m.status();

  dir = CopyOf("tiny-llama");
  {
    std::ifstream in(dir + "/config.json");
    nlohmann::json config = nlohmann::json::parse(in);
    config["model_type"] = "falcon";
    std::ofstream(dir + "/config.json") << config.dump();
  }
  m = Model::Load(dir);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("falcon"), std::string::npos) << m.status();

  m = Model::Load(kTestdata + "/does-not-exist.gguf");
  EXPECT_FALSE(m.ok());
  LoadOptions bad_device;
  bad_device.device = "tpu";
  EXPECT_FALSE(Model::Load(kTestdata + "/tiny-llama", bad_device).ok());
}

}  // namespace
}  // namespace latentbus::agent::llm
