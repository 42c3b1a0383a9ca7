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

bool TokenBucket::FullAt(absl::Time now) const {
  return tokens_ + absl::ToDoubleSeconds(now - last_) * rate_ >= burst_;
}

RateLimiter::RateLimiter(double rate_per_second, double burst)
    : rate_(rate_per_second), burst_(burst) {}

bool RateLimiter::Allow(const std::string& key, absl::Time now) {
  if (rate_ <= 0) return true;
  absl::MutexLock lock(&mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= sweep_at_) SweepFull(now);
    it = buckets_.emplace(key, TokenBucket(rate_, burst_, now)).first;
  }
  return it->second.TryTake(now);
}

void RateLimiter::SweepFull(absl::Time now) {
  absl::erase_if(buckets_, [now](const auto& entry) { return entry.second.FullAt(now); });
  // Amortised: the next sweep waits until the map has doubled from what is left.
  sweep_at_ = std::max<size_t>(1024, 2 * buckets_.size());
}

size_t RateLimiter::size() const {
  absl::MutexLock lock(&mu_);
  return buckets_.size();
}

}  // namespace latentbus::broker
