#include "bench/timing.h"

#include <algorithm>
#include <chrono>
#include <vector>

namespace latentbus::bench {

namespace {

using Clock = std::chrono::steady_clock;

// How many calls of `op` make one sample of at least `min_seconds`.
long CalibrateCalls(const std::function<void()>& op, double min_seconds) {
  long calls = 1;
  for (;;) {
    const auto t0 = Clock::now();
    for (long i = 0; i < calls; ++i) op();
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (s >= min_seconds || calls > (1L << 30)) return calls;
    calls =
        s <= 0 ? calls * 10 : std::max(calls + 1, static_cast<long>(calls * min_seconds / s * 1.2));
  }
}

double SecondsPerCall(const std::function<void()>& op, long calls) {
  const auto t0 = Clock::now();
  for (long i = 0; i < calls; ++i) op();
  return std::chrono::duration<double>(Clock::now() - t0).count() / static_cast<double>(calls);
}

double Median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

}  // namespace

double MedianSecondsPerCall(const std::function<void()>& op, const TimingOptions& options) {
  op();  // warm-up: page faults, caches, lazy initialisation
  const long calls = CalibrateCalls(op, options.min_sample_seconds);
  std::vector<double> per_call;
  for (int k = 0; k < std::max(1, options.samples); ++k)
    per_call.push_back(SecondsPerCall(op, calls));
  return Median(per_call);
}

PairedTiming MedianPaired(const std::function<void()>& op, const std::function<void()>& baseline,
                          const TimingOptions& options) {
  op();
  baseline();
  const long op_calls = CalibrateCalls(op, options.min_sample_seconds);
  const long base_calls = CalibrateCalls(baseline, options.min_sample_seconds);
  std::vector<double> op_s, base_s, ratio;
  for (int k = 0; k < std::max(1, options.samples); ++k) {
    base_s.push_back(SecondsPerCall(baseline, base_calls));
    op_s.push_back(SecondsPerCall(op, op_calls));
    ratio.push_back(base_s.back() / op_s.back());
  }
  return {Median(op_s), Median(base_s), Median(ratio)};
}

}  // namespace latentbus::bench
