#include "bench/latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace latentbus::bench {
namespace {

constexpr int kSubBits = 6;                          // 64 buckets per power of two
constexpr uint64_t kHalf = uint64_t{1} << kSubBits;  // 64
constexpr uint64_t kExact = kHalf * 2;               // values below 128 are exact
constexpr int kMaxExponent = 34;                     // values below 2^41
constexpr size_t kNumBuckets = kExact + kMaxExponent * kHalf;

}  // namespace

LatencyHistogram::LatencyHistogram() : buckets_(kNumBuckets, 0) {}

size_t LatencyHistogram::BucketOf(uint64_t nanos) {
  if (nanos < kExact) return static_cast<size_t>(nanos);
  const int msb = 63 - __builtin_clzll(nanos);
  const int e = msb - kSubBits;
  if (e > kMaxExponent) return kNumBuckets - 1;
  const uint64_t sub = nanos >> e;  // in [64, 128)
  return static_cast<size_t>(kExact + (e - 1) * kHalf + (sub - kHalf));
}

uint64_t LatencyHistogram::BucketUpperBound(size_t bucket) {
  if (bucket < kExact) return bucket;
  const size_t rel = bucket - kExact;
  const int e = static_cast<int>(rel / kHalf) + 1;
  const uint64_t sub = kHalf + rel % kHalf;
  return ((sub + 1) << e) - 1;
}

void LatencyHistogram::Record(uint64_t nanos) {
  ++buckets_[BucketOf(nanos)];
  ++count_;
  min_ = std::min(min_, nanos);
  max_ = std::max(max_, nanos);
  sum_ += static_cast<long double>(nanos);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

void LatencyHistogram::Clear() { *this = LatencyHistogram(); }

double LatencyHistogram::mean() const {
  return count_ == 0 ? 0.0 : static_cast<double>(sum_ / static_cast<long double>(count_));
}

uint64_t LatencyHistogram::ValueAtPercentile(double percentile) const {
  if (count_ == 0) return 0;
  percentile = std::clamp(percentile, 0.0, 100.0);
  if (percentile >= 100.0) return max_;
  const auto rank = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::ceil(percentile / 100.0 * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) return std::clamp(BucketUpperBound(i), min(), max_);
  }
  return max_;
}

std::vector<std::pair<double, uint64_t>> LatencyHistogram::PercentileCurve(int points_per_decade,
                                                                           int max_nines) const {
  std::vector<std::pair<double, uint64_t>> out;
  const int steps = std::max(1, points_per_decade) * std::max(0, max_nines);
  for (int k = 0; k <= steps; ++k) {
    const double x = std::pow(10.0, static_cast<double>(k) / std::max(1, points_per_decade));
    const double p = 100.0 * (1.0 - 1.0 / x);
    out.emplace_back(p, ValueAtPercentile(p));
  }
  out.emplace_back(100.0, max_);
  return out;
}

}  // namespace latentbus::bench
