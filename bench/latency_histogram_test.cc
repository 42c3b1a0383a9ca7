#include "bench/latency_histogram.h"

#include <gtest/gtest.h>

#include <random>

namespace latentbus::bench {
namespace {

TEST(LatencyHistogramTest, EmptyReportsZeros) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
  EXPECT_EQ(h.ValueAtPercentile(50), 0u);
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 100; ++v) h.Record(v);
  EXPECT_EQ(h.ValueAtPercentile(50), 50u);
  EXPECT_EQ(h.ValueAtPercentile(99), 99u);
  EXPECT_EQ(h.ValueAtPercentile(0), 1u);
  EXPECT_EQ(h.ValueAtPercentile(100), 100u);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

TEST(LatencyHistogramTest, BucketsCoverEveryValueWithBoundedError) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200000; ++i) {
    const uint64_t v = rng() >> (rng() % 64);
    const size_t b = LatencyHistogram::BucketOf(v);
    if (v >= (uint64_t{1} << 41)) continue;  // clamped into the last bucket
    const uint64_t upper = LatencyHistogram::BucketUpperBound(b);
    ASSERT_GE(upper, v) << v;
    ASSERT_LE(static_cast<double>(upper - v), static_cast<double>(v) / 64.0 + 1.0) << v;
    if (b > 0) {
      ASSERT_LT(LatencyHistogram::BucketUpperBound(b - 1), v) << v;
    }
  }
}

TEST(LatencyHistogramTest, PercentilesOfAUniformSpreadWithinOnePercent) {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 1000000; ++v) h.Record(v * 1000);  // 1 us .. 1 s
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    const double want = p / 100.0 * 1e9;
    const double got = static_cast<double>(h.ValueAtPercentile(p));
    EXPECT_GE(got, want * 0.999) << p;
    EXPECT_LE(got, want * 1.016) << p;
  }
  EXPECT_EQ(h.max(), 1000000000u);
  EXPECT_EQ(h.min(), 1000u);
}

TEST(LatencyHistogramTest, MergeEqualsRecordingEverythingInOne) {
  LatencyHistogram a, b, all;
  std::mt19937_64 rng(1);
  for (int i = 0; i < 10000; ++i) {
    const uint64_t v = 1000 + rng() % 5000000;
    (i % 3 == 0 ? a : b).Record(v);
    all.Record(v);
  }
  a.Merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_DOUBLE_EQ(a.mean(), all.mean());
  for (double p : {1.0, 50.0, 99.0, 99.99}) {
    EXPECT_EQ(a.ValueAtPercentile(p), all.ValueAtPercentile(p)) << p;
  }
}

TEST(LatencyHistogramTest, HugeValuesLandInTheLastBucketAndMaxStaysExact) {
  LatencyHistogram h;
  h.Record(UINT64_MAX / 2);
  h.Record(10);
  EXPECT_EQ(h.max(), UINT64_MAX / 2);
  EXPECT_EQ(h.ValueAtPercentile(100), UINT64_MAX / 2);
  EXPECT_EQ(h.ValueAtPercentile(50), 10u);
}

TEST(LatencyHistogramTest, CurveIsMonotoneAndEndsAtMax) {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 5000; ++v) h.Record(v * v);
  const auto curve = h.PercentileCurve(4, 3);
  ASSERT_EQ(curve.size(), 4u * 3u + 2u);
  EXPECT_DOUBLE_EQ(curve.front().first, 0.0);
  EXPECT_NEAR(curve[curve.size() - 2].first, 99.9, 1e-9);
  EXPECT_EQ(curve.back().second, h.max());
  for (size_t i = 1; i < curve.size(); ++i) {
    EXPECT_GE(curve[i].first, curve[i - 1].first);
    EXPECT_GE(curve[i].second, curve[i - 1].second);
  }
}

}  // namespace
}  // namespace latentbus::bench
