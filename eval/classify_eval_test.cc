#include "eval/classify_eval.h"

#include <gtest/gtest.h>

#include <fstream>

namespace latentbus::eval {
namespace {

TEST(ClassifyEvalTest, McNemarExactMatchesTheBinomialTail) {
  EXPECT_DOUBLE_EQ(McNemarExactP(0, 0), 1.0);
  EXPECT_DOUBLE_EQ(McNemarExactP(5, 5), 1.0);
  // b=0, c=6: 2 * 0.5^6 = 0.03125.
  EXPECT_NEAR(McNemarExactP(0, 6), 0.03125, 1e-12);
  EXPECT_NEAR(McNemarExactP(6, 0), 0.03125, 1e-12);
  // b=2, c=10: 2 * (1 + 12 + 66) / 4096.
  EXPECT_NEAR(McNemarExactP(2, 10), 2.0 * 79 / 4096, 1e-12);
}

TEST(ClassifyEvalTest, PromptNamesTheLabelsInOrder) {
  agent::node::ReadPrompt p = ClassifyPrompt({"yes", "no"});
  EXPECT_FALSE(p.chat);
  EXPECT_EQ(p.primer, "Read the message and answer with one word from: yes, no.\nMessage:");
  EXPECT_EQ(p.instruction, "Answer:");
}

TEST(ClassifyEvalTest, ReadsItemsAndNamesTheBadLine) {
  const std::string path = std::string(::testing::TempDir()) + "/items.jsonl";
  {
    std::ofstream out(path);
    out << R"({"task": "t", "text": "hello", "label": "a", "labels": ["a", "b"]})"
        << "\n"
        << R"({"text": "x", "label": "c", "labels": ["a", "b"]})"
        << "\n";
  }
  absl::StatusOr<std::vector<LabelledItem>> one = ReadLabelledItems(path, 1);
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].task, "t");
  absl::StatusOr<std::vector<LabelledItem>> all = ReadLabelledItems(path);
  EXPECT_EQ(all.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(all.status().message().find(":2:"), std::string::npos) << all.status();
  EXPECT_EQ(ReadLabelledItems(path + ".missing").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace latentbus::eval
