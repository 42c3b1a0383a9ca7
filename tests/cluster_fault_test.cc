// Fault tests of `latentbus broker --cluster`: real processes on loopback (a JetStream
// nats-server, the broker CLI as a child that is SIGKILLed and started again, C++ clients)
// and a small history check afterwards: every message whose send was confirmed (an OK
// SendResult) reaches the recipient's application (tests/cluster_fault_harness.h).
// cluster_failover_test has the three-node cluster with several brokers.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "agent/client/client.h"
#include "gtest/gtest.h"
#include "nats/loopback_ports.h"
#include "nats/nats_cluster.h"
#include "nats/nats_server_process.h"
#include "tests/cluster_fault_harness.h"

namespace latentbus::testing {
namespace {

class ClusterFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nats::NatsServerOptions o;
    o.jetstream = true;  // file storage, sync_interval always
    auto server = nats::NatsServerProcess::Start(o);
    ASSERT_TRUE(server.ok()) << server.status();
    nats_ = *std::move(server);
    auto ports = nats::FreeLoopbackPorts(1);
    ASSERT_TRUE(ports.ok()) << ports.status();
    log_ = (std::filesystem::temp_directory_path() /
            absl::StrCat("latentbus-cluster-fault-", getpid(), ".log"))
               .string();
    broker_ = std::make_unique<BrokerProcess>((*ports)[0], nats_->url(), log_);
    ASSERT_TRUE(broker_->Start()) << "the broker did not start; its log: " << log_;
  }
  void TearDown() override {
    broker_.reset();
    if (!HasFailure()) std::filesystem::remove(log_);
  }

  std::unique_ptr<agent::Client> Connect(const std::string& id, uint32_t credits = 32) {
    return ConnectClient(broker_->address(), id, credits);
  }

  std::unique_ptr<nats::NatsServerProcess> nats_;
  std::unique_ptr<BrokerProcess> broker_;
  std::string log_;
};

TEST_F(ClusterFaultTest, MessagesAcceptedForAnAbsentAgentOutliveASigkilledBroker) {
  { auto b = Connect("b"); }  // b registers (its queue exists) and leaves
  History h;
  {
    auto a = Connect("a");
    ASSERT_NE(a, nullptr);
    for (int i = 0; i < 50; ++i) {
      const std::string id = absl::StrCat("m", i);
      absl::StatusOr<v1::SendResult> r = a->Send(To("b", id), absl::Seconds(10));
      if (r.ok()) h.confirmed["a"].push_back(id);
    }
  }
  ASSERT_EQ(h.ConfirmedCount(), 50u);
  broker_->Stop(SIGKILL);
  ASSERT_TRUE(broker_->Start());
  auto b = Connect("b");
  ASSERT_NE(b, nullptr);
  Collect(*b, &h, absl::Seconds(20));
  h.Report("absent agent, broker SIGKILL");
  EXPECT_EQ(h.Lost(), 0u);
  EXPECT_EQ(h.repeats_after_ack, 0);
  EXPECT_EQ(h.OrderViolations(), 0u);
}

TEST_F(ClusterFaultTest, DeliveriesInFlightWhenTheBrokerIsKilledComeAgain) {
  auto b = Connect("b", /*credits=*/8);
  auto a = Connect("a");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  // The sender keeps sending through the kill; a send that is refused or cut off is not
  // confirmed and is retried with the same id.
  std::vector<std::string> confirmed;
  std::atomic<bool> stop{false};
  std::thread sender([&] { SendConfirmed(*a, "b", "m", 120, &confirmed, stop); });
  // The receiver reads slowly, so deliveries are in flight when the broker dies.
  History h;
  const absl::Time kill_at = absl::Now() + absl::Milliseconds(400);
  bool killed = false;
  const absl::Time end = absl::Now() + absl::Seconds(60);
  while (absl::Now() < end && h.delivered.size() < 120) {
    if (!killed && absl::Now() > kill_at) {
      broker_->Stop(SIGKILL);
      killed = broker_->Start();
      EXPECT_TRUE(killed) << "the broker did not start again; its log: " << log_;
      if (!killed) break;
    }
    std::optional<v1::Envelope> m = b->Receive(absl::Milliseconds(100));
    if (m.has_value()) {
      absl::SleepFor(absl::Milliseconds(5));
      h.Deliver(*b, *m);
    }
  }
  stop = absl::Now() >= end;
  sender.join();
  h.confirmed["a"] = confirmed;
  Collect(*b, &h, absl::Seconds(20));
  h.Report("connected agent, broker SIGKILL mid-stream");
  EXPECT_TRUE(killed);
  EXPECT_EQ(h.ConfirmedCount(), 120u);
  EXPECT_EQ(h.Lost(), 0u);
  EXPECT_EQ(h.repeats_after_ack, 0);
  EXPECT_EQ(h.OrderViolations(), 0u);
  EXPECT_GE(b->reconnects(), 1);
}

// Three JetStream nodes (R3 stream, file storage, sync_interval always), all SIGKILLed at
// once while messages flow and started again from their folders: what was confirmed
// before is delivered after; sends during the outage are refused, not confirmed, and
// retried.
TEST(ClusterFaultThreeNodesTest, AllThreeNodesKilledAtOnceAndRestartedLoseNothingConfirmed) {
  auto cluster = nats::NatsCluster::Start(3);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ASSERT_TRUE((*cluster)->WaitReady(absl::Seconds(20)).ok());
  auto ports = nats::FreeLoopbackPorts(1);
  ASSERT_TRUE(ports.ok()) << ports.status();
  const std::string log = (std::filesystem::temp_directory_path() /
                           absl::StrCat("latentbus-cluster-r3-", getpid(), ".log"))
                              .string();
  BrokerProcess broker((*ports)[0], (*cluster)->urls(), log, /*replicas=*/3);
  ASSERT_TRUE(broker.Start()) << "the broker did not start; its log: " << log;
  auto b = ConnectClient(broker.address(), "b");
  auto a = ConnectClient(broker.address(), "a");
  ASSERT_TRUE(a && b);
  std::vector<std::string> confirmed;
  std::atomic<bool> stop{false};
  std::thread sender(
      [&] { SendConfirmed(*a, "b", "m", 60, &confirmed, stop, absl::Milliseconds(20)); });
  absl::SleepFor(absl::Milliseconds(500));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*cluster)->node(i).Signal(SIGKILL).ok());
  absl::SleepFor(absl::Milliseconds(500));
  for (int i = 0; i < 3; ++i) {
    absl::Status restarted = (*cluster)->node(i).Restart();
    EXPECT_TRUE(restarted.ok()) << restarted;
  }
  EXPECT_TRUE((*cluster)->WaitReady(absl::Seconds(30)).ok());
  History h;
  const absl::Time end = absl::Now() + absl::Seconds(90);
  while (absl::Now() < end && h.delivered.size() < 60) {
    std::optional<v1::Envelope> m = b->Receive(absl::Milliseconds(200));
    if (m.has_value()) h.Deliver(*b, *m);
  }
  stop = true;
  sender.join();
  h.confirmed["a"] = confirmed;
  Collect(*b, &h, absl::Seconds(20));
  h.Report("3 JetStream nodes SIGKILLed at once, restarted");
  EXPECT_EQ(h.ConfirmedCount(), 60u);
  EXPECT_EQ(h.Lost(), 0u);
  EXPECT_EQ(h.repeats_after_ack, 0);
  if (!::testing::Test::HasFailure()) std::filesystem::remove(log);
}

}  // namespace
}  // namespace latentbus::testing
