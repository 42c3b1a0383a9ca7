// Timing helpers shared by the benchmarks: medians of repeated samples, because these
// machines are shared and noisy.
#ifndef LATENTBUS_BENCH_TIMING_H_
#define LATENTBUS_BENCH_TIMING_H_

#include <functional>

namespace latentbus::bench {

struct TimingOptions {
  int samples = 7;                   // medians over this many samples
  double min_sample_seconds = 0.02;  // each sample repeats the operation at least this long
};

// Median seconds per call of `op`. Runs it once first as warm-up.
double MedianSecondsPerCall(const std::function<void()>& op, const TimingOptions& options = {});

}  // namespace latentbus::bench

#endif  // LATENTBUS_BENCH_TIMING_H_
