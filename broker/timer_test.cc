#include "broker/timer.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"

namespace latentbus::broker {
namespace {

// Schedules a callback that notifies, and waits for it: every callback due before `t`
// has run by then (deadline order on one thread).
void RunPast(Timer& timer, absl::Time t) {
  auto reached = std::make_shared<absl::Notification>();
  timer.Schedule(t, [reached] { reached->Notify(); });
  ASSERT_TRUE(reached->WaitForNotificationWithTimeout(absl::Seconds(30)));
}

TEST(TimerTest, RunsCallbacksInDeadlineOrderAndScheduleOrderWithinAnInstant) {
  Timer timer;
  absl::Mutex mu;
  std::vector<int> ran;
  const absl::Time t0 = absl::Now() + absl::Milliseconds(50);
  auto record = [&](int i) {
    return [&, i] {
      absl::MutexLock lock(&mu);
      ran.push_back(i);
    };
  };
  timer.Schedule(t0 + absl::Milliseconds(20), record(3));
  timer.Schedule(t0, record(1));
  timer.Schedule(t0, record(2));
  RunPast(timer, t0 + absl::Milliseconds(30));
  absl::MutexLock lock(&mu);
  EXPECT_EQ(ran, (std::vector<int>{1, 2, 3}));
}

TEST(TimerTest, ACancelledCallbackNeverRunsAndFreesWhatItHeld) {
  Timer timer;
  auto held = std::make_shared<int>(7);
  std::weak_ptr<int> watch = held;
  bool ran = false;
  const absl::Time when = absl::Now() + absl::Milliseconds(100);
  const Timer::Handle handle = timer.Schedule(when, [held = std::move(held), &ran] { ran = true; });
  EXPECT_NE(handle.id, 0u);
  EXPECT_EQ(timer.pending(), 1u);
  EXPECT_TRUE(timer.Cancel(handle));
  EXPECT_EQ(timer.pending(), 0u);
  EXPECT_TRUE(watch.expired());        // the capture went with the cancel
  EXPECT_FALSE(timer.Cancel(handle));  // twice: nothing left
  RunPast(timer, when + absl::Milliseconds(10));
  EXPECT_FALSE(ran);
}

TEST(TimerTest, CancelAfterTheCallbackRanOrWithAnEmptyHandleDoesNothing) {
  Timer timer;
  const absl::Time when = absl::Now() + absl::Milliseconds(10);
  int runs = 0;
  const Timer::Handle handle = timer.Schedule(when, [&runs] { ++runs; });
  const Timer::Handle other = timer.Schedule(when + absl::Seconds(60), [] {});
  RunPast(timer, when + absl::Milliseconds(1));
  EXPECT_EQ(runs, 1);
  EXPECT_FALSE(timer.Cancel(handle));
  EXPECT_FALSE(timer.Cancel(Timer::Handle{}));
  // A handle with the right id but another instant names nothing.
  EXPECT_FALSE(timer.Cancel(Timer::Handle{when, other.id}));
  EXPECT_EQ(timer.pending(), 1u);
}

TEST(TimerTest, AfterShutdownScheduleGivesAnEmptyHandle) {
  Timer timer;
  timer.Schedule(absl::Now() + absl::Seconds(60), [] {});
  timer.Shutdown();
  EXPECT_EQ(timer.pending(), 0u);
  const Timer::Handle handle = timer.Schedule(absl::Now(), [] {});
  EXPECT_EQ(handle.id, 0u);
  EXPECT_EQ(timer.pending(), 0u);
}

}  // namespace
}  // namespace latentbus::broker
