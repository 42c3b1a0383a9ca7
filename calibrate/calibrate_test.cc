// End to end on the tiny Hugging Face checkpoints: calibrate -> fit -> eval.
#include "calibrate/calibrate.h"

#include <cmath>

#include "bridge/bridge.h"
#include "bridge/fidelity.h"
#include "bridge/fit.h"
#include "gtest/gtest.h"

namespace latentbus::bridge {
namespace {

using agent::llm::Model;

class CalibrateTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    llama_ = Model::Load(std::string(LATENTBUS_LLM_TESTDATA) + "/tiny-llama")->release();
    gemma_ = Model::Load(std::string(LATENTBUS_LLM_TESTDATA) + "/tiny-gemma3")->release();
    absl::StatusOr<std::vector<CorpusItem>> items = ReadCorpus(LATENTBUS_CORPUS, 200);
    ASSERT_TRUE(items.ok()) << items.status();
    items_ = new std::vector<CorpusItem>(std::move(*items));
  }
  static void TearDownTestSuite() {
    delete llama_;
    delete gemma_;
    delete items_;
  }
  static absl::StatusOr<ActivationFile> Run(const Model& model, std::vector<int> layers,
                                            const std::string& name) {
    calibrate::CalibrateOptions options;
    options.layers = std::move(layers);
    options.corpus_path = LATENTBUS_CORPUS;
    absl::StatusOr<ActivationFile> file = calibrate::Calibrate(model, *items_, options);
    if (!file.ok()) return file.status();
    // Through the disk format, as the CLI does.
    const std::string path = std::string(::testing::TempDir()) + "/" + name;
    if (absl::Status s = WriteActivationFile(path, *file); !s.ok()) return s;
    return ReadActivationFile(path);
  }
  static Model* llama_;
  static Model* gemma_;
  static std::vector<CorpusItem>* items_;
};
Model* CalibrateTest::llama_ = nullptr;
Model* CalibrateTest::gemma_ = nullptr;
std::vector<CorpusItem>* CalibrateTest::items_ = nullptr;

TEST_F(CalibrateTest, ActivationFileDescribesTheRun) {
  absl::StatusOr<ActivationFile> f = Run(*llama_, {0, 2}, "llama.act");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->model_id, llama_->info().model_id);
  EXPECT_EQ(f->fingerprint, llama_->info().fingerprint);
  EXPECT_EQ(f->layers, (std::vector<int>{0, 2}));
  EXPECT_EQ(f->num_items(), items_->size());
  EXPECT_EQ(f->corpus_hash, CorpusHash(*items_));
  EXPECT_EQ(f->splits[9], "heldout");
  EXPECT_EQ(f->splits[8], "train");
  // Layer 0 of a Llama is its input embeddings, unscaled.
  ASSERT_EQ(f->hidden[0].size(), f->embeddings.size());
  for (size_t i = 0; i < f->embeddings.size(); i += 97) {
    ASSERT_NEAR(f->hidden[0][i], f->embeddings[i], 1e-5);
  }
  calibrate::CalibrateOptions bad;
  bad.layers = {3};
  EXPECT_FALSE(calibrate::Calibrate(*llama_, *items_, bad).ok());
}

TEST_F(CalibrateTest, FitAndEvaluateAcrossTokenizers) {
  absl::StatusOr<ActivationFile> src = Run(*llama_, {1, 2}, "src.act");
  absl::StatusOr<ActivationFile> dst = Run(*gemma_, {1}, "dst.act");
  ASSERT_TRUE(src.ok()) << src.status();
  ASSERT_TRUE(dst.ok()) << dst.status();
  absl::StatusOr<WordPairs> heldout = AlignWords({&*src, 1}, {&*dst, -1}, "heldout");
  ASSERT_TRUE(heldout.ok());
  EXPECT_GT(heldout->size(), 100u);

  // A self bridge at layer 0 of Gemma is a pure rescaling (x sqrt(d)): near perfect.
  absl::StatusOr<ActivationFile> gemma0 = Run(*gemma_, {0}, "gemma0.act");
  ASSERT_TRUE(gemma0.ok());
  FitOptions self;
  self.kind = "self";
  absl::StatusOr<BridgeArtifact> s = FitBridge(*gemma0, *gemma0, 0, self);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_GT(s->metadata.fidelity.at("cosine"), 0.999);
  EXPECT_GT(s->metadata.fidelity.at("word_top1"), 0.95);
  EXPECT_FALSE(FitBridge(*src, *dst, 1, self).ok());  // two models are not "self"

  for (const char* kind : {"affine", "procrustes"}) {
    FitOptions options;
    options.kind = kind;
    absl::StatusOr<BridgeArtifact> artifact = FitBridge(*src, *dst, 1, options);
    ASSERT_TRUE(artifact.ok()) << kind << ": " << artifact.status();
    const BridgeMetadata& m = artifact->metadata;
    EXPECT_EQ(m.src_model_id, src->model_id);
    EXPECT_EQ(m.dst_fingerprint, dst->fingerprint);
    EXPECT_EQ(m.layer, 1);
    const std::string path = std::string(::testing::TempDir()) + "/tiny." + kind + ".bridge";
    ASSERT_TRUE(WriteBridgeArtifact(path, *artifact).ok());
    absl::StatusOr<std::unique_ptr<Bridge>> bridge = Bridge::Load(path);
    ASSERT_TRUE(bridge.ok()) << bridge.status();
    absl::StatusOr<Fidelity> f = EvaluateBridge(**bridge, *src, *dst);
    ASSERT_TRUE(f.ok()) << f.status();
    EXPECT_NEAR(f->cosine, m.fidelity.at("cosine"), 1e-4);
    EXPECT_TRUE(std::isfinite(f->spectrum_corr));
    // Better than chance (1 in 100) on held-out words.
    EXPECT_GT(f->word_top1, 0.05) << kind;
    EXPECT_GT(f->cosine, 0.1) << kind;
    // Swapped files are refused by the fingerprint check.
    EXPECT_EQ(EvaluateBridge(**bridge, *dst, *src).status().code(),
              absl::StatusCode::kFailedPrecondition);
  }
}

}  // namespace
}  // namespace latentbus::bridge
