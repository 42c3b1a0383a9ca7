// The trainer end to end on the tiny random checkpoints (tiny Llama -> tiny Gemma 3):
// the loss falls, a run is deterministic for a seed, a resumed run equals an unbroken
// one, and the result is an adapter the broker's bridge code loads.
#include "train/trainer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "bridge/bridge.h"
#include "bridge/corpus.h"
#include "bridge/fit.h"
#include "calibrate/calibrate.h"

namespace latentbus::train {
namespace {

const std::string kTestdata = LATENTBUS_LLM_TESTDATA;

class TrainerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // One folder per process: ctest runs each test of this suite as its own process, two
    // at a time, and each writes the fixtures here.
    dir_ = new std::string(std::string(::testing::TempDir()) + "/trainer_test_" +
                           std::to_string(getpid()));
    std::filesystem::create_directories(*dir_);
    using agent::llm::Model;
    agent::llm::LoadOptions load;
    load.threads = 1;
    auto llama = Model::Load(kTestdata + "/tiny-llama", load);
    auto gemma = Model::Load(kTestdata + "/tiny-gemma3", load);
    ASSERT_TRUE(llama.ok() && gemma.ok());
    auto items = bridge::ReadCorpus(LATENTBUS_CORPUS, 120);
    ASSERT_TRUE(items.ok());
    auto a = calibrate::Calibrate(**llama, *items, {{2}, LATENTBUS_CORPUS, nullptr});
    auto b = calibrate::Calibrate(**gemma, *items, {{1}, LATENTBUS_CORPUS, nullptr});
    ASSERT_TRUE(a.ok() && b.ok());
    auto affine = bridge::FitBridge(*a, *b, 2, {"affine"});
    ASSERT_TRUE(affine.ok()) << affine.status();
    ASSERT_TRUE(bridge::WriteBridgeArtifact(*dir_ + "/affine.bridge", *affine).ok());
    // Short messages (the tiny models have 128 positions).
    std::ofstream out(*dir_ + "/messages.txt");
    std::ofstream labelled(*dir_ + "/labelled.jsonl");
    for (size_t i = 0; i < items->size(); ++i) {
      const std::string& text = (*items)[i].text;
      if (text.size() >= 50) continue;
      out << text << "\n";
      // One label throughout, the one the untrained receiver does not prefer. (" tea"
      // and " sun" start with different tokens in the tiny vocabulary; " yes" and " no" do
      // not, which the trainer refuses, as `eval classify` does.)
      labelled
          << nlohmann::json{{"text", text}, {"label", "sun"}, {"labels", {"tea", "sun"}}}.dump()
          << "\n";
    }
  }
  static void TearDownTestSuite() {
    std::error_code ignored;
    std::filesystem::remove_all(*dir_, ignored);
    delete dir_;
  }

  static TrainOptions Options(const std::string& out, int steps) {
    TrainOptions o;
    o.sender_model = kTestdata + "/tiny-llama";
    o.receiver_model = kTestdata + "/tiny-gemma3";
    o.sender_layer = 2;
    o.init = *dir_ + "/affine.bridge";
    o.data = {*dir_ + "/messages.txt"};
    o.steps = steps;
    o.batch = 2;
    o.rank = 8;
    o.lr = 0.05;
    o.max_tokens = 40;
    o.heldout = 4;
    o.log_every = 5;
    o.checkpoint_every = 0;
    o.threads = 1;
    o.out = *dir_ + "/" + out;
    return o;
  }

  static std::string Bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  static std::string* dir_;
};
std::string* TrainerTest::dir_ = nullptr;

TEST_F(TrainerTest, GeneralObjectiveWritesAnAdapterTheBrokerLoads) {
  std::ostringstream progress;
  absl::StatusOr<nlohmann::json> r = TrainBridge(Options("a.bridge", 10), &progress);
  ASSERT_TRUE(r.ok()) << r.status() << "\n" << progress.str();
  EXPECT_EQ((*r)["steps"], 10);
  // Progress shows the bar, the losses, the collapse diagnostics and the controls.
  for (const char* want : {"step 10/10", "outputs' cosine", "distinct first tokens",
                           "validation before (4 held-out", "another message's latent"}) {
    EXPECT_NE(progress.str().find(want), std::string::npos) << want << "\n" << progress.str();
  }
  absl::StatusOr<std::unique_ptr<bridge::Bridge>> b = bridge::Bridge::Load(*dir_ + "/a.bridge");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ((*b)->kind(), "adapter");
  EXPECT_EQ((*b)->metadata().provenance.at("seed"), "1");
  EXPECT_EQ((*b)->metadata().provenance.at("objective"), "general");
  EXPECT_EQ((*b)->metadata().fit.at("steps"), 10);
  EXPECT_GT((*b)->metadata().fidelity.count("val_kl"), 0u);
  // Training moved the bridge away from its affine start.
  auto trained = bridge::ReadBridgeArtifact(*dir_ + "/a.bridge");
  ASSERT_TRUE(trained.ok());
  double down = 0;
  for (float v : trained->tensors.at("down").data) down = std::max(down, double(std::fabs(v)));
  EXPECT_GT(down, 0.0);
}

TEST_F(TrainerTest, TaskObjectiveLowersTheLabelLoss) {
  TrainOptions o = Options("t.bridge", 30);
  o.objective = "task";
  o.data.clear();
  o.task_data = {*dir_ + "/labelled.jsonl"};
  std::ostringstream progress;
  absl::StatusOr<nlohmann::json> r = TrainBridge(o, &progress);
  ASSERT_TRUE(r.ok()) << r.status() << "\n" << progress.str();
  const auto& losses = (*r)["losses"];
  ASSERT_EQ(losses.size(), 6u);
  // From well above ln 2 (the untrained receiver prefers the other label) to clearly below.
  EXPECT_GT(losses.front()["loss"].get<double>(), 0.5) << progress.str();
  EXPECT_LT(losses.back()["loss"].get<double>(), 0.5 * losses.front()["loss"].get<double>())
      << progress.str();
}

TEST_F(TrainerTest, DeterministicForASeedAndResumable) {
  std::ostringstream progress;
  ASSERT_TRUE(TrainBridge(Options("d1.bridge", 8), &progress).ok()) << progress.str();
  ASSERT_TRUE(TrainBridge(Options("d2.bridge", 8), &progress).ok());
  // The artifacts differ only in the recorded time; compare what they compute.
  auto b1 = bridge::ReadBridgeArtifact(*dir_ + "/d1.bridge");
  auto b2 = bridge::ReadBridgeArtifact(*dir_ + "/d2.bridge");
  ASSERT_TRUE(b1.ok() && b2.ok());
  for (const auto& [name, t] : b1->tensors) EXPECT_EQ(t.data, b2->tensors.at(name).data) << name;

  // 4 steps, then resume to 8: the same tensors as the unbroken run.
  TrainOptions first = Options("r.bridge", 4);
  first.checkpoint_every = 2;
  ASSERT_TRUE(TrainBridge(first, &progress).ok());
  TrainOptions rest = Options("r.bridge", 8);
  rest.resume = true;
  std::ostringstream resumed;
  ASSERT_TRUE(TrainBridge(rest, &resumed).ok()) << resumed.str();
  EXPECT_NE(resumed.str().find("resuming from"), std::string::npos) << resumed.str();
  auto r = bridge::ReadBridgeArtifact(*dir_ + "/r.bridge");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->metadata.fit.at("steps"), 8);
  for (const auto& [name, t] : b1->tensors) {
    const auto& got = r->tensors.at(name).data;
    ASSERT_EQ(got.size(), t.data.size());
    double worst = 0;
    for (size_t i = 0; i < got.size(); ++i)
      worst = std::max(worst, double(std::fabs(got[i] - t.data[i])));
    EXPECT_LT(worst, 1e-6) << name;
  }
}

TEST_F(TrainerTest, ClearErrors) {
  std::ostringstream progress;
  TrainOptions o = Options("e.bridge", 2);
  o.objective = "magic";
  EXPECT_EQ(TrainBridge(o, &progress).status().code(), absl::StatusCode::kInvalidArgument);
  o = Options("e.bridge", 2);
  o.sender_layer = 1;  // the affine bridge reads layer 2
  EXPECT_EQ(TrainBridge(o, &progress).status().code(), absl::StatusCode::kInvalidArgument);
  o = Options("e.bridge", 2);
  std::swap(o.sender_model, o.receiver_model);  // fitted for the other direction
  EXPECT_EQ(TrainBridge(o, &progress).status().code(), absl::StatusCode::kFailedPrecondition);
  o = Options("e.bridge", 2);
  o.data = {*dir_ + "/missing.txt"};
  EXPECT_EQ(TrainBridge(o, &progress).status().code(), absl::StatusCode::kNotFound);
  {
    std::ofstream bad(*dir_ + "/ambiguous.jsonl");
    for (int i = 0; i < 12; ++i) {
      bad << R"({"text": "a b c", "label": "yes", "labels": ["yes", "no"]})"
          << "\n";
    }
  }
  o = Options("e.bridge", 2);
  o.objective = "task";
  o.task_data = {*dir_ + "/ambiguous.jsonl"};
  absl::Status ambiguous = TrainBridge(o, &progress).status();
  EXPECT_EQ(ambiguous.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(ambiguous.message().find("share a first token"), std::string::npos) << ambiguous;
}

}  // namespace
}  // namespace latentbus::train
