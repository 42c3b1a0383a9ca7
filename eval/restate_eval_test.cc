#include "eval/restate_eval.h"

#include <gtest/gtest.h>

namespace latentbus::eval {
namespace {

TEST(RestateScoresTest, ContentWordsSkipStopWordsAndShortWordsButKeepNumbers) {
  EXPECT_EQ(ContentWords("The disk on the build server was full at 02:14."),
            (std::vector<std::string>{"disk", "build", "server", "full", "02", "14"}));
}

TEST(RestateScoresTest, RecallCountsContentWordsFoundAnywhereInTheReply) {
  const std::string message = "The nightly deployment failed because the disk was full.";
  EXPECT_DOUBLE_EQ(ContentRecall(message, message), 1.0);
  // nightly, deployment, failed, disk, full: 3 of 5 in any order and case.
  EXPECT_DOUBLE_EQ(ContentRecall(message, "FULL disk; the deployment broke"), 0.6);
  EXPECT_DOUBLE_EQ(ContentRecall(message, "The night of the 12th"), 0.0);
}

TEST(RestateScoresTest, RougeLIsTheLcsF1OverWords) {
  EXPECT_DOUBLE_EQ(RougeL("a b c d", "a b c d"), 1.0);
  EXPECT_DOUBLE_EQ(RougeL("x y", "a b"), 0.0);
  // LCS "a c" = 2: precision 2/3, recall 2/4, F1 = 4/7.
  EXPECT_NEAR(RougeL("a x c", "a b c d"), 4.0 / 7.0, 1e-12);
  EXPECT_DOUBLE_EQ(RougeL("", "a"), 0.0);
}

}  // namespace
}  // namespace latentbus::eval
