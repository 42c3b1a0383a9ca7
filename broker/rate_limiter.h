// Message rate limits: one token bucket per sender key. The router keys by the
// authenticated principal (the token's name) when authentication is on, so every agent
// and Publish call of a token shares its bucket, and by agent id when it is off.
//
// A bucket holds up to `burst` tokens and refills at `rate` tokens per second; each
// message takes one (and each answered stream frame without a message takes one from a
// second bucket of the same sender, keyed "frames/<key>": ConnectReactor). rate <= 0 disables
// limiting. A bucket outlives the stream that used it (reconnecting does not refill it); buckets
// that have refilled completely are swept, since a full bucket is the same as none, so memory
// follows the senders active in the last burst/rate seconds.
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
  // True when the bucket would hold `burst` tokens at `now`.
  bool FullAt(absl::Time now) const;

 private:
  double rate_;
  double burst_;
  double tokens_;
  absl::Time last_;
};

class RateLimiter {
 public:
  RateLimiter(double rate_per_second, double burst);

  // True when `key` may send one more message at `now`.
  bool Allow(const std::string& key, absl::Time now);
  // Buckets held (for tests and metrics).
  size_t size() const;

 private:
  void SweepFull(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const double rate_;
  const double burst_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, TokenBucket> buckets_ ABSL_GUARDED_BY(mu_);
  size_t sweep_at_ ABSL_GUARDED_BY(mu_) = 1024;  // sweep when the map grows to this
};

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_RATE_LIMITER_H_
