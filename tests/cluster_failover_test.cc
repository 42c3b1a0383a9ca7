// Fault tests of brokers in cluster mode over a three-node JetStream cluster (R3, file
// storage, sync_interval always), real processes on loopback: two `latentbus broker
// --cluster` CLIs and C++ clients that list both brokers, the sender on one broker and
// the receiver on the other. Each test injects one fault while messages flow, prints its
// counts and checks the history afterwards (tests/cluster_fault_harness.h): every
// confirmed message delivered, none handed over again after the application acked it,
// first deliveries in each sender's order.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <map>
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
#include "nats/nats_health.h"
#include "proto/error_reason.h"
#include "tests/cluster_fault_harness.h"

namespace latentbus::testing {
namespace {

class ClusterFailoverTest : public ::testing::Test {
 protected:
  void SetUp() override { StartAll({}); }

  void StartAll(const std::vector<std::string>& broker_args) {
    auto cluster = nats::NatsCluster::Start(3);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
    ASSERT_TRUE(cluster_->WaitReady(absl::Seconds(30)).ok());
    auto ports = nats::FreeLoopbackPorts(2);
    ASSERT_TRUE(ports.ok()) << ports.status();
    for (int i = 0; i < 2; ++i) {
      const std::string log = (std::filesystem::temp_directory_path() /
                               absl::StrCat("latentbus-failover-", getpid(), "-b", i, ".log"))
                                  .string();
      std::vector<std::string> args = {"--broker-name", absl::StrCat("b", i)};
      args.insert(args.end(), broker_args.begin(), broker_args.end());
      brokers_.push_back(std::make_unique<BrokerProcess>((*ports)[i], cluster_->urls(), log,
                                                         /*replicas=*/3, args));
      ASSERT_TRUE(brokers_.back()->Start()) << "broker " << i << " did not start: " << log;
    }
  }

  void TearDown() override {
    for (auto& b : brokers_) {
      const std::string log = b->log();
      b.reset();
      if (!HasFailure()) std::filesystem::remove(log);
    }
  }

  // A client of broker `first`, failing over to the other one.
  std::unique_ptr<agent::Client> Connect(const std::string& id, int first, uint32_t credits = 32) {
    return ConnectClient(
        absl::StrCat(brokers_[first]->address(), ",", brokers_[1 - first]->address()), id, credits);
  }

  // Waits up to 15 s until a node other than `old` leads stream LATENTBUS; returns it, or -1.
  int AwaitNewLeader(int old) {
    for (int i = 0; i < 75; ++i) {
      const int now = StreamLeader();
      if (now >= 0 && now != old) return now;
      absl::SleepFor(absl::Milliseconds(200));
    }
    return -1;
  }

  // The node leading stream LATENTBUS, or -1.
  int StreamLeader() {
    std::vector<nats::NatsHealth> probes;
    for (int i = 0; i < cluster_->size(); ++i) {
      probes.push_back(nats::ProbeNatsHealth(cluster_->node(i).monitor_port(), true));
    }
    for (const nats::NatsStream& s : nats::StreamsAsLeadersSee(probes)) {
      if (s.name != "LATENTBUS") continue;
      for (int i = 0; i < cluster_->size(); ++i) {
        if (s.leader == cluster_->node(i).server_name()) return i;
      }
    }
    return -1;
  }

  // Runs a sender ("a", on broker 0) of `count` messages to "b" (on broker 1) while
  // `fault` runs once `after` has passed, then collects; returns the history.
  History RunWithFault(int count, absl::Duration after, const std::function<void()>& fault) {
    History h;
    auto b = Connect("b", 1);
    auto a = Connect("a", 0);
    EXPECT_NE(a, nullptr);
    EXPECT_NE(b, nullptr);
    if (a == nullptr || b == nullptr) return h;
    std::vector<std::string> confirmed;
    std::atomic<bool> stop{false};
    std::map<std::string, int> refusals;
    std::thread sender([&] {
      refusals = SendConfirmed(*a, "b", "m", count, &confirmed, stop, absl::Milliseconds(10));
    });
    std::thread injector([&] {
      absl::SleepFor(after);
      fault();
    });
    const absl::Time end = absl::Now() + absl::Seconds(90);
    while (absl::Now() < end && h.delivered.size() < static_cast<size_t>(count)) {
      std::optional<v1::Envelope> m = b->Receive(absl::Milliseconds(100));
      if (m.has_value()) h.Deliver(*b, *m);
    }
    injector.join();
    stop = true;
    sender.join();
    h.confirmed["a"] = confirmed;
    Collect(*b, &h, absl::Seconds(20));
    reconnects_ = a->reconnects() + b->reconnects();
    std::printf("sends refused and retried:");
    for (const auto& [reason, n] : refusals) std::printf(" %s x%d", reason.c_str(), n);
    std::printf("; reconnects %d\n", reconnects_);
    return h;
  }

  void ExpectClean(const History& h, size_t count, const std::string& name) {
    h.Report(name);
    EXPECT_EQ(h.ConfirmedCount(), count);
    EXPECT_EQ(h.Lost(), 0u);
    EXPECT_EQ(h.repeats_after_ack, 0);
    EXPECT_EQ(h.OrderViolations(), 0u);
  }

  std::unique_ptr<nats::NatsCluster> cluster_;
  std::vector<std::unique_ptr<BrokerProcess>> brokers_;
  int reconnects_ = 0;
};

TEST_F(ClusterFailoverTest, SigkillOfTheStreamLeaderLosesNothingConfirmed) {
  int leader = -1, successor = -1;
  History h = RunWithFault(150, absl::Milliseconds(500), [&] {
    leader = StreamLeader();
    if (leader < 0) return;
    EXPECT_TRUE(cluster_->node(leader).Signal(SIGKILL).ok());
    successor = AwaitNewLeader(leader);
    EXPECT_TRUE(cluster_->node(leader).Restart().ok());
  });
  ASSERT_GE(leader, 0) << "no leader of stream LATENTBUS found";
  EXPECT_GE(successor, 0) << "no other node took the lead";
  ExpectClean(h, 150,
              absl::StrCat("stream leader n", leader,
                           " SIGKILLed, restarted once n" + std::to_string(successor) + " led"));
}

TEST_F(ClusterFailoverTest, ALeaderPausedPastAnElectionLosesNothingConfirmed) {
  int leader = -1, successor = -1;
  History h = RunWithFault(150, absl::Milliseconds(500), [&] {
    leader = StreamLeader();
    if (leader < 0) return;
    EXPECT_TRUE(cluster_->node(leader).Signal(SIGSTOP).ok());
    // Paused until the others elected a leader among themselves (2-6 s on loopback), and
    // a while longer; then the old leader wakes up believing it still leads.
    successor = AwaitNewLeader(leader);
    absl::SleepFor(absl::Seconds(2));
    EXPECT_TRUE(cluster_->node(leader).Signal(SIGCONT).ok());
  });
  ASSERT_GE(leader, 0) << "no leader of stream LATENTBUS found";
  EXPECT_GE(successor, 0) << "no other node took the lead";
  ExpectClean(
      h, 150,
      absl::StrCat("stream leader n", leader,
                   " SIGSTOPped until n" + std::to_string(successor) + " led, then SIGCONT"));
}

TEST_F(ClusterFailoverTest, ARollingRestartOfTheBrokersLosesNothingConfirmed) {
  bool restarted = true;
  History h = RunWithFault(200, absl::Milliseconds(300), [&] {
    for (auto& b : brokers_) {
      b->Stop(SIGTERM);  // drains: its clients move to the other broker
      restarted = b->Start() && restarted;
      absl::SleepFor(absl::Milliseconds(700));
    }
  });
  EXPECT_TRUE(restarted);
  ExpectClean(h, 200, "rolling restart of both brokers (SIGTERM, start)");
  EXPECT_GE(reconnects_, 2);
}

// The sender on one broker fills the queue of a receiver on the other broker that does
// not read: QUEUE_FULL, while another receiver there still gets its messages; once the
// first reads, everything confirmed arrives. Its delivery credits hold across brokers.
class ClusterQueueFullTest : public ClusterFailoverTest {
 protected:
  void SetUp() override { StartAll({"--max-queue-depth", "20"}); }
};

TEST_F(ClusterQueueFullTest, QueueFullAndCreditsHoldAcrossBrokers) {
  auto slow = Connect("slow", 1, /*credits=*/4);
  auto other = Connect("other", 1);
  auto a = Connect("a", 0);
  ASSERT_TRUE(slow && other && a);
  History h;
  int queue_full = 0;
  for (int i = 0; i < 40 && queue_full == 0; ++i) {
    const std::string id = absl::StrCat("s", i);
    absl::StatusOr<v1::SendResult> r = a->Send(To("slow", id), absl::Seconds(10));
    if (r.ok()) {
      h.confirmed["a"].push_back(id);
    } else if (wire::ReasonOf(r.status()) == v1::QUEUE_FULL) {
      ++queue_full;
    } else {
      ADD_FAILURE() << r.status();
    }
  }
  EXPECT_EQ(queue_full, 1);
  // The queue holds 20 (queued + unacked): 4 are out on credit, 16 wait.
  EXPECT_EQ(h.ConfirmedCount(), 20u);
  // Another recipient on the same broker is not held up.
  ASSERT_TRUE(a->Send(To("other", "o1"), absl::Seconds(10)).ok());
  std::optional<v1::Envelope> o = other->Receive(absl::Seconds(10));
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->message_id(), "o1");
  other->Ack(*o);
  // Credits: without acks the slow receiver gets exactly its 4.
  std::vector<v1::Envelope> held;
  while (held.size() < 5) {
    std::optional<v1::Envelope> m = slow->Receive(absl::Seconds(2));
    if (!m.has_value()) break;
    held.push_back(*m);
  }
  EXPECT_EQ(held.size(), 4u);
  for (const v1::Envelope& m : held) h.Deliver(*slow, m);
  Collect(*slow, &h, absl::Seconds(20));
  ExpectClean(h, 20, "QUEUE_FULL across brokers (depth 20, credits 4)");
}

}  // namespace
}  // namespace latentbus::testing
