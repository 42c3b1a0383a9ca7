// Per-agent message rate limits: one token bucket per agent id.
//
// A bucket holds up to `burst` tokens and refills at `rate` tokens per second; each
// message takes one. rate <= 0 disables limiting. Buckets are created on first use and
// dropped by Forget (when the agent unregisters).
//
// Thread safety: safe for concurrent use (internal mutex).
#ifndef LATENTBUS_BROKER_RATE_LIMITER_H_
#define LATENTBUS_BROKER_RATE_LIMITER_H_

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace latentbus::broker {

// A single bucket; not thread-safe (RateLimiter serialises access).
class TokenBucket {
 public:
  TokenBucket(double rate, double burst, absl::Time now);
  // Takes one token if available.
  bool TryTake(absl::Time now);

 private:
  double rate_;
  double burst_;
  double tokens_;
  absl::Time last_;
};

class RateLimiter {
 public:
  RateLimiter(double rate_per_second, double burst);

  // True when `agent_id` may send one more message at `now`.
  bool Allow(const std::string& agent_id, absl::Time now);
  void Forget(const std::string& agent_id);

 private:
  const double rate_;
  const double burst_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, TokenBucket> buckets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_RATE_LIMITER_H_
