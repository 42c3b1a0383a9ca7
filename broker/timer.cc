#include "broker/timer.h"

#include "absl/time/clock.h"

namespace latentbus::broker {

Timer::Timer() : thread_([this] { Loop(); }) {}

Timer::~Timer() { Shutdown(); }

Timer::Handle Timer::Schedule(absl::Time when, std::function<void()> callback) {
  absl::MutexLock lock(&mu_);
  if (stop_) return {};
  const Handle handle{when, next_id_++};
  due_.emplace(std::make_pair(when, handle.id), std::move(callback));
  return handle;
}

bool Timer::Cancel(const Handle& handle) {
  if (handle.id == 0) return false;
  std::function<void()> dropped;  // destroyed after the lock is released
  absl::MutexLock lock(&mu_);
  auto it = due_.find(std::make_pair(handle.when, handle.id));
  if (it == due_.end()) return false;
  dropped = std::move(it->second);
  due_.erase(it);
  return true;
}

void Timer::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
    due_.clear();
  }
  if (thread_.joinable()) thread_.join();
}

size_t Timer::pending() const {
  absl::MutexLock lock(&mu_);
  return due_.size();
}

void Timer::Loop() {
  absl::MutexLock lock(&mu_);
  for (;;) {
    if (stop_) return;
    absl::Time now = absl::Now();
    if (!due_.empty() && due_.begin()->first.first <= now) {
      std::function<void()> callback = std::move(due_.begin()->second);
      due_.erase(due_.begin());
      mu_.Unlock();
      callback();
      mu_.Lock();
      continue;
    }
    absl::Time wake = due_.empty() ? now + absl::Seconds(1) : due_.begin()->first.first;
    // Wakes early when a new earlier deadline or stop arrives (the condition changes).
    auto changed = [this, wake]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stop_ || (!due_.empty() && due_.begin()->first.first < wake);
    };
    mu_.AwaitWithDeadline(absl::Condition(&changed), wake);
  }
}

}  // namespace latentbus::broker
