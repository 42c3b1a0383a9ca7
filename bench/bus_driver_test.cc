// The workload driver's accounting over the real bare relay on loopback (fast, no
// broker): every pattern completes what it sends, and fan-out is counted per delivery.
#include "bench/bus_driver.h"

#include <gtest/gtest.h>

#include "bench/relay_server.h"
#include "bench/relay_transport.h"

namespace latentbus::bench {
namespace {

v1::Envelope Payload() {
  v1::Envelope e;
  e.set_message_class(v1::MESSAGE_CLASS_CONTEXT);
  e.set_text(std::string(1000, 'x'));
  return e;
}

PhaseResult RunOverRelay(const Workload& w) {
  absl::StatusOr<std::unique_ptr<RelayServer>> relay = RelayServer::Start("127.0.0.1:0");
  EXPECT_TRUE(relay.ok()) << relay.status();
  RelayTransport transport(absl::StrCat("127.0.0.1:", (*relay)->port()));
  const std::vector<BusAgent> agents = PlanAgents(w, v1::ModelSpec(), v1::ModelSpec());
  absl::StatusOr<PhaseResult> r = RunWorkload(transport, agents, w, Payload());
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *std::move(r) : PhaseResult{};
}

Workload Short(BusMode mode, int agents) {
  Workload w;
  w.mode = mode;
  w.agents = agents;
  w.warmup_seconds = 0.05;
  w.duration_seconds = 0.3;
  w.window = 2;
  return w;
}

TEST(BusDriverTest, EveryPatternCompletesWhatItSends) {
  for (BusMode mode : {BusMode::kDirect, BusMode::kRequest}) {
    const PhaseResult r = RunOverRelay(Short(mode, 4));
    EXPECT_GT(r.sent, 0u) << BusModeName(mode);
    EXPECT_EQ(r.expected, r.sent) << BusModeName(mode);
    EXPECT_EQ(r.completed, r.expected) << BusModeName(mode);
    EXPECT_EQ(r.lost, 0u) << BusModeName(mode);
    EXPECT_EQ(r.reject_total, 0u) << BusModeName(mode);
    EXPECT_GT(r.msgs_per_s, 0.0) << BusModeName(mode);
    EXPECT_GT(r.latency.ValueAtPercentile(50), 0u) << BusModeName(mode);
    // On the wire: each of the 4 agents' hello and readiness echo to itself (written and
    // read: 3 messages), then 2 messages a delivery (written, read), 2 deliveries a round
    // trip.
    const uint64_t per_message = mode == BusMode::kRequest ? 4 : 2;
    EXPECT_EQ(r.wire_messages, 4 * 3 + per_message * r.completed_all) << BusModeName(mode);
  }
}

TEST(BusDriverTest, TopicCountsEverySubscribersDelivery) {
  const PhaseResult r = RunOverRelay(Short(BusMode::kTopic, 4));
  EXPECT_GT(r.sent, 0u);
  EXPECT_EQ(r.expected, r.sent * 3);
  EXPECT_EQ(r.completed, r.expected);
}

TEST(BusDriverTest, OpenLoopSendsAtTheRate) {
  Workload w = Short(BusMode::kDirect, 2);
  w.rate = 200;
  w.duration_seconds = 0.5;
  const PhaseResult r = RunOverRelay(w);
  EXPECT_NEAR(static_cast<double>(r.sent), 100.0, 5.0);
  EXPECT_EQ(r.completed, r.sent);
}

TEST(BusDriverTest, PlansPairsAndTopics) {
  Workload w = Short(BusMode::kRequest, 4);
  std::vector<BusAgent> a = PlanAgents(w, v1::ModelSpec(), v1::ModelSpec());
  ASSERT_EQ(a.size(), 4u);
  EXPECT_EQ(a[0].id, "bench-s0");
  EXPECT_EQ(a[3].id, "bench-r1");
  w.mode = BusMode::kTopic;
  a = PlanAgents(w, v1::ModelSpec(), v1::ModelSpec());
  ASSERT_EQ(a.size(), 4u);
  EXPECT_TRUE(a[0].topics.empty());
  EXPECT_EQ(a[1].topics, std::vector<std::string>{kBenchTopic});
}

TEST(BusDriverTest, RefusesBadWorkloads) {
  Workload w = Short(BusMode::kDirect, 3);
  EXPECT_FALSE(ValidateWorkload(w).ok());  // odd number of agents for pairs
  w.mode = BusMode::kTopic;
  EXPECT_TRUE(ValidateWorkload(w).ok());
  w.agents = 1;
  EXPECT_FALSE(ValidateWorkload(w).ok());
  EXPECT_FALSE(ParseBusMode("fanout").ok());
}

}  // namespace
}  // namespace latentbus::bench
