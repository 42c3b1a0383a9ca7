// A test stand-in for ConnectReactor (the real session, which needs a gRPC stream): an
// AgentSession that keeps every frame the broker pushes to it, for unit tests that drive
// the broker's components without gRPC. Frames arrive on translation and timer threads
// too. Header-only; tests include it, the broker library does not.
#ifndef LATENTBUS_BROKER_RECORDING_SESSION_H_
#define LATENTBUS_BROKER_RECORDING_SESSION_H_

#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "broker/session.h"

namespace latentbus::broker {

class StreamRecorder final : public AgentSession {
 public:
  bool Push(v1::BrokerFrame frame) override {
    absl::MutexLock lock(&mu_);
    frames_.push_back(std::move(frame));
    return true;
  }
  void End(const absl::Status& status) override {
    absl::MutexLock lock(&mu_);
    ended_ = status;
  }
  // What End was called with (OK while it was not).
  absl::Status ended() const {
    absl::MutexLock lock(&mu_);
    return ended_;
  }

  // False when fewer than `n` frames arrived within 30 s.
  bool AwaitFrames(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, n]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return frames_.size() >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(30));
  }
  std::vector<v1::BrokerFrame> frames() const {
    absl::MutexLock lock(&mu_);
    return frames_;
  }
  // The envelopes of the Deliver frames, in order.
  std::vector<v1::Envelope> Delivered() const {
    std::vector<v1::Envelope> out;
    for (const v1::BrokerFrame& f : frames()) {
      if (f.has_deliver()) out.push_back(f.deliver().envelope());
    }
    return out;
  }

 private:
  absl::Status ended_ ABSL_GUARDED_BY(mu_);
  mutable absl::Mutex mu_;
  std::vector<v1::BrokerFrame> frames_ ABSL_GUARDED_BY(mu_);
};

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_RECORDING_SESSION_H_
