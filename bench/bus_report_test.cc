#include "bench/bus_report.h"

#include <gtest/gtest.h>

#include <sstream>

namespace latentbus::bench {
namespace {

TEST(BusReportTest, APhaseInMicroseconds) {
  PhaseResult r;
  for (uint64_t us : {100, 200, 300, 400, 1000}) r.latency.Record(us * 1000);
  r.sent = 5;
  r.completed = 5;
  r.lost = 0;
  r.msgs_per_s = 2500;
  r.rejects = {{"QUEUE_FULL", 2}};
  r.reject_total = 2;
  const nlohmann::json j = PhaseJson(r);
  EXPECT_NEAR(j["p50_us"].get<double>(), 300, 300 * 0.02);
  EXPECT_NEAR(j["max_us"].get<double>(), 1000, 1000 * 0.02);
  EXPECT_NEAR(j["mean_us"].get<double>(), 400, 400 * 0.02);
  EXPECT_EQ(j["completed"].get<uint64_t>(), 5u);
  EXPECT_EQ(j["rejects"].get<uint64_t>(), 2u);
  EXPECT_EQ(j["reject_reasons"]["QUEUE_FULL"].get<uint64_t>(), 2u);
  ASSERT_TRUE(j["curve"].is_array());
  EXPECT_FALSE(j["curve"].empty());
}

nlohmann::json System(const char* label, double p50) {
  return {{"label", label},    {"p50_us", p50},      {"p90_us", p50},
          {"p99_us", p50 * 2}, {"p999_us", p50 * 3}, {"max_us", p50},
          {"msgs_per_s", 10},  {"rejects", 0},       {"lost", 0}};
}

TEST(BusReportTest, TheTableShowsEachSystemAndTheRatiosAndTheGoal) {
  nlohmann::json r = {
      {"date", "2026-12-05"},
      {"machine", {{"nproc", 2}, {"cpu", "test cpu"}}},
      {"payload", {{"description", "text"}, {"content_bytes", 16}, {"envelope_bytes", 40}}},
      {"bridge", nullptr},
      {"workload",
       {{"agents", 4}, {"loop", "closed"}, {"window", 1}, {"warmup_s", 0.5}, {"duration_s", 2.0}}},
      {"broker", "in-process (loopback)"},
      {"mode_order", {"request"}},
      {"goal", {{"mode", "request"}, {"met_vs_floor", true}, {"met_vs_nats", false}}}};
  r["modes"]["request"] = {
      {"order", {kRelay, kNats, kLatentbus}},
      {"systems",
       {{kRelay, System("bare gRPC relay", 100)},
        {kNats, System("nats-server", 150)},
        {kLatentbus, System("latentbus broker", 180)}}},
      {"ratios", {{"latentbus_vs_floor_p50", 1.8}, {"latentbus_vs_nats_p50", 1.2}}}};
  std::ostringstream out;
  PrintBusBenchTable(r, out);
  const std::string table = out.str();
  EXPECT_NE(table.find("2 x test cpu"), std::string::npos) << table;
  EXPECT_NE(table.find("mode request (latency = round trip)"), std::string::npos) << table;
  for (const char* label : {"bare gRPC relay", "nats-server", "latentbus broker"}) {
    EXPECT_NE(table.find(label), std::string::npos) << label << "\n" << table;
  }
  EXPECT_NE(table.find("1.8x"), std::string::npos) << table;
  EXPECT_NE(table.find("1.2x"), std::string::npos) << table;
  EXPECT_NE(table.find("<= 2x floor: met; <= nats-server: MISSED"), std::string::npos) << table;
}

}  // namespace
}  // namespace latentbus::bench
