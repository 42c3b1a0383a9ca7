#include "agent/client/backoff.h"

#include <algorithm>

namespace latentbus::agent {

Backoff::Backoff(absl::Duration initial, absl::Duration max, uint64_t seed)
    : initial_(std::max(initial, absl::ZeroDuration())),
      max_(std::max(max, initial_)),
      nominal_(initial_),
      rng_(seed) {}

absl::Duration Backoff::Next() {
  const absl::Duration wait = nominal_ * std::uniform_real_distribution<double>(0.5, 1.0)(rng_);
  nominal_ = std::min(nominal_ * 2, max_);
  return wait;
}

}  // namespace latentbus::agent
