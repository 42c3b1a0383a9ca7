#include "agent/client/write_watchdog.h"

#include <gtest/gtest.h>

#include "absl/time/clock.h"

namespace latentbus::agent {
namespace {

TEST(WriteWatchdogTest, AWriteThatEndsInTimeCancelsNothing) {
  WriteWatchdog watchdog;
  grpc::ClientContext context;
  for (int i = 0; i < 1000; ++i) {
    EXPECT_FALSE(watchdog.End(watchdog.Begin(&context, absl::Now() + absl::Seconds(30))));
  }
}

TEST(WriteWatchdogTest, AWritePastItsDeadlineFires) {
  WriteWatchdog watchdog;
  grpc::ClientContext context;
  const uint64_t id = watchdog.Begin(&context, absl::Now() + absl::Milliseconds(20));
  absl::SleepFor(absl::Seconds(1));
  EXPECT_TRUE(watchdog.End(id));
  EXPECT_FALSE(watchdog.End(id));  // ended: unknown now
}

TEST(WriteWatchdogTest, AnEarlierDeadlineWakesTheThreadThatSleepsUntilALaterOne) {
  WriteWatchdog watchdog;
  grpc::ClientContext late_context, early_context;
  const uint64_t late = watchdog.Begin(&late_context, absl::Now() + absl::Seconds(60));
  absl::SleepFor(absl::Milliseconds(50));  // the thread now sleeps until the late one
  const uint64_t early = watchdog.Begin(&early_context, absl::Now() + absl::Milliseconds(20));
  absl::SleepFor(absl::Seconds(1));
  EXPECT_TRUE(watchdog.End(early));
  EXPECT_FALSE(watchdog.End(late));
}

TEST(WriteWatchdogTest, EndsWhileWatchesWaitAndStopsPromptly) {
  const absl::Time start = absl::Now();
  {
    WriteWatchdog watchdog;
    grpc::ClientContext context;
    const uint64_t id = watchdog.Begin(&context, absl::Now() + absl::Hours(1));
    EXPECT_FALSE(watchdog.End(id));
  }
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

}  // namespace
}  // namespace latentbus::agent
