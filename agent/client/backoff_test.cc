#include "agent/client/backoff.h"

#include <gtest/gtest.h>

#include <set>

namespace latentbus::agent {
namespace {

TEST(BackoffTest, DoublesUpToTheCapWithEachWaitInTheUpperHalf) {
  Backoff b(absl::Milliseconds(100), absl::Seconds(5), /*seed=*/7);
  const int64_t nominal_ms[] = {100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000};
  for (int64_t n : nominal_ms) {
    ASSERT_EQ(b.nominal(), absl::Milliseconds(n));
    const absl::Duration wait = b.Next();
    EXPECT_GE(wait, absl::Milliseconds(n) / 2) << n;
    EXPECT_LE(wait, absl::Milliseconds(n)) << n;
  }
  b.Reset();
  EXPECT_EQ(b.nominal(), absl::Milliseconds(100));
}

TEST(BackoffTest, ClientsThatLostTheSameBrokerWaitDifferentTimes) {
  std::set<int64_t> first_waits_us;
  for (uint64_t seed = 0; seed < 32; ++seed) {
    Backoff b(absl::Seconds(1), absl::Seconds(5), seed);
    first_waits_us.insert(absl::ToInt64Microseconds(b.Next()));
  }
  // 32 clients at the same nominal 1 s spread over [0.5 s, 1 s]: nearly all distinct.
  EXPECT_GT(first_waits_us.size(), 28u);
  EXPECT_GE(*first_waits_us.begin(), 500000);
  EXPECT_LE(*first_waits_us.rbegin(), 1000000);
  EXPECT_GT(*first_waits_us.rbegin() - *first_waits_us.begin(), 250000) << "spread";
}

TEST(BackoffTest, ACapBelowTheStartIsTheStart) {
  Backoff b(absl::Seconds(2), absl::Seconds(1), 1);
  b.Next();
  EXPECT_EQ(b.nominal(), absl::Seconds(2));
}

}  // namespace
}  // namespace latentbus::agent
