#include "broker/rate_limiter.h"

#include <algorithm>

namespace latentbus::broker {

TokenBucket::TokenBucket(double rate, double burst, absl::Time now)
    : rate_(rate), burst_(burst), tokens_(burst), last_(now) {}

bool TokenBucket::TryTake(absl::Time now) {
  if (now > last_) {
    tokens_ = std::min(burst_, tokens_ + absl::ToDoubleSeconds(now - last_) * rate_);
    last_ = now;
  }
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

RateLimiter::RateLimiter(double rate_per_second, double burst)
    : rate_(rate_per_second), burst_(burst) {}

bool RateLimiter::Allow(const std::string& agent_id, absl::Time now) {
  if (rate_ <= 0) return true;
  absl::MutexLock lock(&mu_);
  auto it = buckets_.find(agent_id);
  if (it == buckets_.end()) {
    it = buckets_.emplace(agent_id, TokenBucket(rate_, burst_, now)).first;
  }
  return it->second.TryTake(now);
}

void RateLimiter::Forget(const std::string& agent_id) {
  absl::MutexLock lock(&mu_);
  buckets_.erase(agent_id);
}

}  // namespace latentbus::broker
