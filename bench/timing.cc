#include "bench/timing.h"

#include <algorithm>
#include <chrono>
#include <vector>

namespace latentbus::bench {

double MedianSecondsPerCall(const std::function<void()>& op, const TimingOptions& options) {
  using Clock = std::chrono::steady_clock;
  op();  // warm-up: page faults, caches, lazy initialisation
  // Calibrate how many calls make one sample.
  long calls = 1;
  for (;;) {
    const auto t0 = Clock::now();
    for (long i = 0; i < calls; ++i) op();
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (s >= options.min_sample_seconds || calls > (1L << 30)) break;
    calls = s <= 0 ? calls * 10
                   : std::max(calls + 1,
                              static_cast<long>(calls * options.min_sample_seconds / s * 1.2));
  }
  std::vector<double> per_call;
  for (int k = 0; k < std::max(1, options.samples); ++k) {
    const auto t0 = Clock::now();
    for (long i = 0; i < calls; ++i) op();
    per_call.push_back(std::chrono::duration<double>(Clock::now() - t0).count() /
                       static_cast<double>(calls));
  }
  std::nth_element(per_call.begin(), per_call.begin() + per_call.size() / 2, per_call.end());
  return per_call[per_call.size() / 2];
}

}  // namespace latentbus::bench
