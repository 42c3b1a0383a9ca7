#include "agent/client/write_watchdog.h"

#include <algorithm>

namespace latentbus::agent {

WriteWatchdog::WriteWatchdog() : thread_([this] { Loop(); }) {}

WriteWatchdog::~WriteWatchdog() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

uint64_t WriteWatchdog::Begin(grpc::ClientContext* context, absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  const uint64_t id = next_id_++;
  watches_.emplace(id, Watch{context, deadline});
  // The thread is woken only for a deadline before the one it sleeps until: a write
  // that ends in time costs no thread switch.
  if (deadline < sleeping_until_) wake_ = true;
  return id;
}

bool WriteWatchdog::End(uint64_t id) {
  absl::MutexLock lock(&mu_);
  auto it = watches_.find(id);
  if (it == watches_.end()) return false;
  const bool fired = it->second.fired;
  watches_.erase(it);
  return fired;
}

void WriteWatchdog::Loop() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    absl::Time earliest = absl::InfiniteFuture();
    const absl::Time now = absl::Now();
    for (auto& [id, watch] : watches_) {
      if (watch.fired) continue;
      if (watch.deadline <= now) {
        watch.fired = true;
        watch.context->TryCancel();  // does not block; the Write returns false
      } else {
        earliest = std::min(earliest, watch.deadline);
      }
    }
    sleeping_until_ = earliest;
    wake_ = false;
    auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || wake_; };
    mu_.AwaitWithDeadline(absl::Condition(&woken), earliest);
  }
}

}  // namespace latentbus::agent
