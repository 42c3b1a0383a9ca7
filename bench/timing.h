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

struct PairedTiming {
  double seconds = 0;           // median seconds per call of the operation
  double baseline_seconds = 0;  // median seconds per call of the baseline
  double speed_ratio = 0;       // median over sample pairs of baseline time / operation time
};

// Times `op` and `baseline` in alternating samples, so that load changes on a shared
// machine hit both alike; the ratio is taken within each pair.
PairedTiming MedianPaired(const std::function<void()>& op, const std::function<void()>& baseline,
                          const TimingOptions& options = {});

}  // namespace latentbus::bench

#endif  // LATENTBUS_BENCH_TIMING_H_
