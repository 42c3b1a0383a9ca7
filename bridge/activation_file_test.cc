#include "bridge/activation_file.h"

#include "gtest/gtest.h"

namespace latentbus::bridge {
namespace {

ActivationFile SmallFile() {
  ActivationFile f;
  f.model_id = "m";
  f.fingerprint = "fp";
  f.corpus = "c.txt";
  f.corpus_hash = "0123";
  f.layers = {0, 3};
  f.width = 2;
  f.texts = {"ab cd", "x"};
  f.splits = {"train", "heldout"};
  f.offsets = {0, 3, 4};
  f.spans = {0, 0, 0, 2, 2, 5, 0, 1};
  f.token_ids = {1, 10, 11, 12};
  f.hidden = {{1, 2, 3, 4, 5, 6, 7, 8}, {-1, -2, -3, -4, -5, -6, -7, -8}};
  f.embeddings = {0.5f, 0.25f, 1, 1, 2, 2, 3, 3};
  return f;
}

TEST(ActivationFileTest, RoundTrips) {
  const std::string path = std::string(::testing::TempDir()) + "/act.safetensors";
  const ActivationFile f = SmallFile();
  ASSERT_TRUE(WriteActivationFile(path, f).ok());
  absl::StatusOr<ActivationFile> g = ReadActivationFile(path);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->model_id, f.model_id);
  EXPECT_EQ(g->fingerprint, f.fingerprint);
  EXPECT_EQ(g->corpus_hash, f.corpus_hash);
  EXPECT_EQ(g->layers, f.layers);
  EXPECT_EQ(g->width, f.width);
  EXPECT_EQ(g->texts, f.texts);
  EXPECT_EQ(g->splits, f.splits);
  EXPECT_EQ(g->offsets, f.offsets);
  EXPECT_EQ(g->spans, f.spans);
  EXPECT_EQ(g->token_ids, f.token_ids);
  EXPECT_EQ(g->hidden, f.hidden);
  EXPECT_EQ(g->embeddings, f.embeddings);
  EXPECT_EQ(g->LayerIndex(3), 1);
  EXPECT_EQ(g->LayerIndex(2), -1);
}

TEST(ActivationFileTest, RefusesInconsistentFiles) {
  const std::string path = std::string(::testing::TempDir()) + "/bad.safetensors";
  ActivationFile f = SmallFile();
  f.spans[5] = 9;  // past the end of "ab cd"
  EXPECT_FALSE(WriteActivationFile(path, f).ok());
  f = SmallFile();
  f.offsets = {0, 2, 4};
  f.splits[1] = "test";
  EXPECT_FALSE(WriteActivationFile(path, f).ok());
  f = SmallFile();
  f.embeddings.pop_back();
  EXPECT_FALSE(WriteActivationFile(path, f).ok());
}

}  // namespace
}  // namespace latentbus::bridge
