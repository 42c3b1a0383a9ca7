#include "broker/metrics.h"

#include <gtest/gtest.h>

namespace latentbus::broker {
namespace {

TEST(MetricsTest, CountersGaugesHistogramsAndCollectors) {
  Metrics m;
  m.Increment("latentbus_rejects_total", {{"reason", "QUEUE_FULL"}});
  m.Increment("latentbus_rejects_total", {{"reason", "QUEUE_FULL"}}, 2);
  m.SetGauge("latentbus_x", {}, 7);
  m.Observe("latentbus_residence_seconds", 0.001);
  m.AddCollector([] {
    return std::vector<Metrics::GaugeSample>{{"latentbus_queue_depth", {{"agent", "a\"b"}}, 3}};
  });
  EXPECT_EQ(m.CounterValue("latentbus_rejects_total", {{"reason", "QUEUE_FULL"}}), 3);
  EXPECT_EQ(m.CounterValue("latentbus_rejects_total", {{"reason", "OTHER"}}), 0);
  auto counters = m.Counters();
  EXPECT_EQ(counters["latentbus_residence_seconds_count"], 1);
  auto gauges = m.Gauges();
  EXPECT_EQ(gauges["latentbus_x"], 7);
  EXPECT_EQ(gauges["latentbus_queue_depth{agent=\"a\\\"b\"}"], 3);
  std::string text = m.RenderPrometheus();
  EXPECT_NE(text.find("# TYPE latentbus_rejects_total counter\n"
                      "latentbus_rejects_total{reason=\"QUEUE_FULL\"} 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("latentbus_residence_seconds_bucket{le=\"+Inf\"} 1"), std::string::npos);
  EXPECT_NE(text.find("latentbus_residence_seconds_bucket{le=\"5.0000000000000002e-05\"} 0"),
            std::string::npos)
      << text;
}

TEST(MetricsTest, ResidentBytesIsPositive) { EXPECT_GT(ResidentBytes(), 1e6); }

}  // namespace
}  // namespace latentbus::broker
