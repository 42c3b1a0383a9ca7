// Fault tests of `latentbus broker --cluster`: real processes on loopback (a JetStream
// nats-server, the broker CLI as a child that is SIGKILLed and started again, C++ clients)
// and a small history check afterwards: every message whose send was confirmed (an OK
// SendResult) reaches the recipient's application; repeats are counted and printed (the
// SDK does not drop them yet).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
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

extern char** environ;

namespace latentbus::testing {
namespace {

// The broker CLI as a child process on a fixed port, so that clients reconnect to its
// successor.
class BrokerProcess {
 public:
  BrokerProcess(int port, std::string nats_url, std::string log, int replicas = 1)
      : port_(port), nats_url_(std::move(nats_url)), log_(std::move(log)), replicas_(replicas) {}
  ~BrokerProcess() { Kill(SIGKILL); }

  // Starts the broker and waits until it listens (its --port-file appears).
  bool Start() {
    const std::string port_file = log_ + ".port";
    std::filesystem::remove(port_file);
    std::vector<std::string> args = {LATENTBUS_CLI,
                                     "broker",
                                     "--listen",
                                     absl::StrCat("127.0.0.1:", port_),
                                     "--port-file",
                                     port_file,
                                     "--metrics-listen",
                                     "",
                                     "--rate",
                                     "0",
                                     "--cluster",
                                     nats_url_,
                                     "--cluster-ack-wait",
                                     "2",
                                     "--cluster-replicas",
                                     std::to_string(replicas_)};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log_.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return false;
    for (int i = 0; i < 200; ++i) {
      if (std::filesystem::exists(port_file) && std::filesystem::file_size(port_file) > 0) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  }
  void Kill(int sig) {
    if (pid_ <= 0) return;
    kill(pid_, sig);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

 private:
  const int port_;
  const std::string nats_url_;
  const std::string log_;
  const int replicas_;
  pid_t pid_ = -1;
};

// What the applications saw.
struct History {
  std::set<std::string> confirmed;
  std::map<std::string, int> delivered;  // message id -> times the application got it

  void Report(const std::string& name) const {
    size_t lost = 0, repeats = 0;
    for (const std::string& id : confirmed) lost += delivered.count(id) == 0 ? 1 : 0;
    for (const auto& [id, n] : delivered) repeats += n > 1 ? n - 1 : 0;
    std::printf("%s: confirmed %zu, delivered %zu distinct, lost %zu, repeats seen %zu\n",
                name.c_str(), confirmed.size(), delivered.size(), lost, repeats);
  }
  size_t Lost() const {
    size_t lost = 0;
    for (const std::string& id : confirmed) lost += delivered.count(id) == 0 ? 1 : 0;
    return lost;
  }
  bool AllDelivered() const { return Lost() == 0; }
};

v1::Envelope To(const std::string& agent, const std::string& id) {
  v1::Envelope e;
  e.set_message_id(id);
  e.mutable_recipient()->set_agent_id(agent);
  e.set_message_class(v1::MESSAGE_CLASS_CONTEXT);
  e.set_text("message " + id);
  return e;
}

// Receives (and acks) until every confirmed message arrived or `timeout` passed.
void Collect(agent::Client& c, History* h, absl::Duration timeout) {
  const absl::Time end = absl::Now() + timeout;
  while (!h->AllDelivered() && absl::Now() < end) {
    std::optional<v1::Envelope> m = c.Receive(absl::Milliseconds(200));
    if (!m.has_value()) continue;
    ++h->delivered[m->message_id()];
    c.Ack(*m);
  }
}

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
    agent::ClientOptions o;
    o.address = broker_->address();
    o.agent_id = id;
    o.delivery_credits = credits;
    o.backoff_initial = absl::Milliseconds(50);
    o.backoff_max = absl::Milliseconds(300);
    auto c = agent::Client::Connect(o);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *std::move(c) : nullptr;
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
      if (r.ok()) h.confirmed.insert(id);
    }
  }
  ASSERT_EQ(h.confirmed.size(), 50u);
  broker_->Kill(SIGKILL);
  ASSERT_TRUE(broker_->Start());
  auto b = Connect("b");
  ASSERT_NE(b, nullptr);
  Collect(*b, &h, absl::Seconds(20));
  h.Report("absent agent, broker SIGKILL");
  EXPECT_EQ(h.Lost(), 0u);
}

TEST_F(ClusterFaultTest, DeliveriesInFlightWhenTheBrokerIsKilledComeAgain) {
  auto b = Connect("b", /*credits=*/8);
  auto a = Connect("a");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  History h;
  // The sender keeps sending through the kill; a send that is refused or cut off is not
  // confirmed and is retried with the same id.
  std::thread sender([&] {
    for (int i = 0; i < 120; ++i) {
      const std::string id = absl::StrCat("m", i);
      for (int attempt = 0; attempt < 100; ++attempt) {
        absl::StatusOr<v1::SendResult> r = a->Send(To("b", id), absl::Seconds(5));
        if (r.ok()) {
          h.confirmed.insert(id);
          break;
        }
        absl::SleepFor(absl::Milliseconds(50));
      }
    }
  });
  // The receiver reads slowly, so deliveries are in flight when the broker dies.
  History seen;
  const absl::Time kill_at = absl::Now() + absl::Milliseconds(400);
  bool killed = false;
  const absl::Time end = absl::Now() + absl::Seconds(60);
  while (absl::Now() < end) {
    if (!killed && absl::Now() > kill_at) {
      broker_->Kill(SIGKILL);
      killed = broker_->Start();
      EXPECT_TRUE(killed) << "the broker did not start again; its log: " << log_;
      if (!killed) break;
    }
    std::optional<v1::Envelope> m = b->Receive(absl::Milliseconds(100));
    if (m.has_value()) {
      ++seen.delivered[m->message_id()];
      absl::SleepFor(absl::Milliseconds(5));
      b->Ack(*m);
    }
    if (seen.delivered.size() >= 120) break;
  }
  sender.join();
  h.delivered = seen.delivered;
  Collect(*b, &h, absl::Seconds(20));
  h.Report("connected agent, broker SIGKILL mid-stream");
  EXPECT_TRUE(killed);
  EXPECT_EQ(h.confirmed.size(), 120u);
  EXPECT_EQ(h.Lost(), 0u);
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
  agent::ClientOptions o;
  o.address = broker.address();
  o.backoff_initial = absl::Milliseconds(50);
  o.backoff_max = absl::Milliseconds(500);
  o.agent_id = "b";
  auto b = agent::Client::Connect(o);
  o.agent_id = "a";
  auto a = agent::Client::Connect(o);
  ASSERT_TRUE(a.ok() && b.ok());
  History h;
  std::atomic<bool> sending{true};
  std::thread sender([&] {
    for (int i = 0; i < 60 && sending; ++i) {
      const std::string id = absl::StrCat("m", i);
      for (int attempt = 0; attempt < 400 && sending; ++attempt) {
        if ((*a)->Send(To("b", id), absl::Seconds(5)).ok()) {
          h.confirmed.insert(id);
          break;
        }
        absl::SleepFor(absl::Milliseconds(50));
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
  });
  absl::SleepFor(absl::Milliseconds(500));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*cluster)->node(i).Signal(SIGKILL).ok());
  absl::SleepFor(absl::Milliseconds(500));
  for (int i = 0; i < 3; ++i) {
    absl::Status restarted = (*cluster)->node(i).Restart();
    EXPECT_TRUE(restarted.ok()) << restarted;
  }
  EXPECT_TRUE((*cluster)->WaitReady(absl::Seconds(30)).ok());
  History seen;
  const absl::Time end = absl::Now() + absl::Seconds(90);
  while (absl::Now() < end && seen.delivered.size() < 60) {
    std::optional<v1::Envelope> m = (*b)->Receive(absl::Milliseconds(200));
    if (!m.has_value()) continue;
    ++seen.delivered[m->message_id()];
    (*b)->Ack(*m);
  }
  sending = false;
  sender.join();
  h.delivered = seen.delivered;
  Collect(**b, &h, absl::Seconds(20));
  h.Report("3 JetStream nodes SIGKILLed at once, restarted");
  EXPECT_EQ(h.confirmed.size(), 60u);
  EXPECT_EQ(h.Lost(), 0u);
  if (!::testing::Test::HasFailure()) std::filesystem::remove(log);
}

}  // namespace
}  // namespace latentbus::testing
