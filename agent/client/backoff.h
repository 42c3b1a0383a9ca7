// The wait before each reconnect: exponential from `initial` up to `max`, with jitter, so
// that clients which lost the same broker do not all come back at the same instant.
//   attempt n (0, 1, 2, ...) waits a uniformly random time in [nominal/2, nominal], where
//   nominal = min(initial * 2^n, max).
#ifndef LATENTBUS_AGENT_CLIENT_BACKOFF_H_
#define LATENTBUS_AGENT_CLIENT_BACKOFF_H_

#include <cstdint>
#include <random>

#include "absl/time/time.h"

namespace latentbus::agent {

class Backoff {
 public:
  Backoff(absl::Duration initial, absl::Duration max, uint64_t seed = std::random_device{}());

  // The wait before the next attempt; each call is one attempt further.
  absl::Duration Next();
  // The nominal (unjittered) wait of the next attempt.
  absl::Duration nominal() const { return nominal_; }
  // Back to the first attempt (after a connection that held).
  void Reset() { nominal_ = initial_; }

 private:
  absl::Duration initial_;
  absl::Duration max_;
  absl::Duration nominal_;
  std::mt19937_64 rng_;
};

}  // namespace latentbus::agent

#endif  // LATENTBUS_AGENT_CLIENT_BACKOFF_H_
