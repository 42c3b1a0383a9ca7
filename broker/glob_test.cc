#include "broker/glob.h"

#include <gtest/gtest.h>

namespace latentbus::broker {
namespace {

TEST(GlobTest, Matches) {
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("*", "anything.at.all"));
  EXPECT_TRUE(GlobMatch("news.*", "news.tech"));
  EXPECT_FALSE(GlobMatch("news.*", "news"));
  EXPECT_TRUE(GlobMatch("a?c", "abc"));
  EXPECT_FALSE(GlobMatch("a?c", "ac"));
  EXPECT_TRUE(GlobMatch("*-worker-*", "planner-worker-7"));
  EXPECT_FALSE(GlobMatch("planner", "planner2"));
  EXPECT_TRUE(GlobMatch("a*b*c", "axxbyyc"));
  EXPECT_FALSE(GlobMatch("a*b*c", "axxbyy"));
  EXPECT_TRUE(GlobMatchAny({"x", "y*"}, "yes"));
  EXPECT_FALSE(GlobMatchAny({}, "anything"));
}

}  // namespace
}  // namespace latentbus::broker
