#include "broker/rate_limiter.h"

#include <gtest/gtest.h>

namespace latentbus::broker {
namespace {

TEST(RateLimiterTest, BurstThenRefillAtRate) {
  absl::Time t0 = absl::FromUnixSeconds(1000);
  TokenBucket bucket(/*rate=*/10, /*burst=*/3, t0);
  EXPECT_TRUE(bucket.TryTake(t0));
  EXPECT_TRUE(bucket.TryTake(t0));
  EXPECT_TRUE(bucket.TryTake(t0));
  EXPECT_FALSE(bucket.TryTake(t0));
  EXPECT_FALSE(bucket.TryTake(t0 + absl::Milliseconds(50)));  // half a token
  EXPECT_TRUE(bucket.TryTake(t0 + absl::Milliseconds(100)));
  EXPECT_FALSE(bucket.TryTake(t0 + absl::Milliseconds(100)));
  // Never more than the burst, however long the pause.
  absl::Time later = t0 + absl::Hours(1);
  int taken = 0;
  while (bucket.TryTake(later)) ++taken;
  EXPECT_EQ(taken, 3);
}

TEST(RateLimiterTest, PerKeyAndDisabledAtZero) {
  absl::Time t0 = absl::FromUnixSeconds(1000);
  RateLimiter limiter(1, 1);
  EXPECT_TRUE(limiter.Allow("a", t0));
  EXPECT_FALSE(limiter.Allow("a", t0));
  EXPECT_TRUE(limiter.Allow("b", t0));  // separate bucket
  EXPECT_FALSE(limiter.Allow("a", t0 + absl::Milliseconds(500)));
  EXPECT_TRUE(limiter.Allow("a", t0 + absl::Seconds(1)));
  RateLimiter off(0, 0);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(off.Allow("a", t0));
}

TEST(RateLimiterTest, OnlyRefilledBucketsAreSweptAndMemoryStaysBounded) {
  absl::Time t0 = absl::FromUnixSeconds(1000);
  RateLimiter limiter(/*rate=*/1, /*burst=*/2);
  EXPECT_TRUE(limiter.Allow("busy", t0));
  EXPECT_TRUE(limiter.Allow("busy", t0));  // empty now
  // 5,000 one-off senders over 5,000 s: each bucket refills within 2 s and is swept.
  for (int i = 0; i < 5000; ++i) {
    ASSERT_TRUE(limiter.Allow("once-" + std::to_string(i), t0 + absl::Seconds(i)));
    if (i == 0) {
      // Still empty a moment later: the sweep keeps buckets that have not refilled.
      EXPECT_FALSE(limiter.Allow("busy", t0 + absl::Milliseconds(100)));
    }
  }
  EXPECT_LE(limiter.size(), 2048u);
}

}  // namespace
}  // namespace latentbus::broker
