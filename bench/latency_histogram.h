// A log-bucketed latency histogram (in the manner of HdrHistogram): values in
// nanoseconds, exact below 128 ns, and above that 64 buckets per power of two, so a
// reported percentile is never below the true value and at most 1/64 (1.6%) above it.
// Values below 2^41 ns (about 36 minutes) are bucketed; larger ones count in the last
// bucket. Count, min, max and the sum are exact.
//
// Thread safety: not synchronised. Keep one histogram per recording thread (or guard it)
// and Merge them afterwards.
#ifndef LATENTBUS_BENCH_LATENCY_HISTOGRAM_H_
#define LATENTBUS_BENCH_LATENCY_HISTOGRAM_H_

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace latentbus::bench {

class LatencyHistogram {
 public:
  LatencyHistogram();

  void Record(uint64_t nanos);
  // Adds every value recorded in `other`.
  void Merge(const LatencyHistogram& other);
  void Clear();

  uint64_t count() const { return count_; }
  // 0 for an empty histogram.
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  double mean() const;

  // The smallest bucket bound v such that at least `percentile` % of the values are
  // <= v, clamped to [min, max]; 100 gives max exactly. 0 for an empty histogram.
  // `percentile` is clamped to [0, 100].
  uint64_t ValueAtPercentile(double percentile) const;

  // (percentile, value) pairs for a percentile plot: from 0 towards 100 in steps even on
  // a log scale of 1 / (1 - p), up to `max_nines` nines (3 => 99.9), then 100.
  std::vector<std::pair<double, uint64_t>> PercentileCurve(int points_per_decade,
                                                           int max_nines) const;

  // Bucket arithmetic, public for tests: the bucket index of a value and the largest
  // value that falls into a bucket.
  static size_t BucketOf(uint64_t nanos);
  static uint64_t BucketUpperBound(size_t bucket);

 private:
  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  long double sum_ = 0;
};

}  // namespace latentbus::bench

#endif  // LATENTBUS_BENCH_LATENCY_HISTOGRAM_H_
