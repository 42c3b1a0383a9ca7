// Two brokers on one JetStream (a real nats-server): agents registered on different
// brokers reach each other through the shared agent directory and queues, by direct
// message, topic and request/reply; a second registration of an id on the other broker
// ends the first stream.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "agent/client/client.h"
#include "broker/jetstream_directory.h"
#include "broker/server.h"
#include "gtest/gtest.h"
#include "nats/nats_server_process.h"
#include "tests/broker_harness.h"

namespace latentbus::testing {
namespace {

class ClusterDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nats::NatsServerOptions o;
    o.jetstream = true;
    auto server = nats::NatsServerProcess::Start(o);
    ASSERT_TRUE(server.ok()) << server.status();
    nats_ = *std::move(server);
    for (const char* name : {"one", "two"}) {
      broker::BrokerOptions options;
      options.config = TestConfig();
      options.config.cluster.servers = nats_->url();
      options.config.cluster.broker_name = name;
      auto b = broker::BrokerServer::Start(std::move(options));
      ASSERT_TRUE(b.ok()) << b.status();
      brokers_.push_back(*std::move(b));
    }
  }

  std::unique_ptr<agent::Client> Connect(int broker, const std::string& id, bool reconnect = true,
                                         std::function<void(const v1::Error&)> on_error = nullptr) {
    agent::ClientOptions o;
    o.on_error = std::move(on_error);
    o.address = "127.0.0.1:" + std::to_string(brokers_[broker]->port());
    o.agent_id = id;
    o.reconnect = reconnect;
    auto c = agent::Client::Connect(o);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *std::move(c) : nullptr;
  }

  // Waits until `broker` knows `id` as connected on the other broker (and with `topic`).
  bool AwaitRemote(int broker, const std::string& id, const std::string& topic = "") {
    for (int i = 0; i < 200; ++i) {
      auto r = brokers_[broker]->broker().registry().FindRemote(id);
      if (r.has_value() && r->connected &&
          (topic.empty() ||
           std::find(r->topics.begin(), r->topics.end(), topic) != r->topics.end())) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(25));
    }
    return false;
  }

  std::unique_ptr<nats::NatsServerProcess> nats_;
  std::vector<std::unique_ptr<broker::BrokerServer>> brokers_;
};

TEST_F(ClusterDirectoryTest, ADirectMessageReachesAnAgentOnTheOtherBroker) {
  auto b = Connect(1, "b");
  auto a = Connect(0, "a");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(AwaitRemote(0, "b"));
  EXPECT_EQ(brokers_[0]->broker().registry().FindRemote("b")->broker, "two");
  ASSERT_TRUE(a->Send(ToAgent("m1", "b", "across")).ok());
  std::optional<v1::Envelope> got = b->Receive(kWait);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->text(), "across");
  EXPECT_EQ(got->sender_id(), "a");
  b->Ack(*got);
  // Each broker counts its side: the publish on the sender's, the delivery on the
  // receiver's (counted just after the delivery left, so it may trail the client).
  const std::string delivered = "latentbus_deliveries_total{form=\"text\"}";
  std::map<std::string, double> received = brokers_[1]->broker().metrics().Counters();
  for (int i = 0; i < 200 && received[delivered] < 1; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
    received = brokers_[1]->broker().metrics().Counters();
  }
  std::map<std::string, double> sent = brokers_[0]->broker().metrics().Counters();
  EXPECT_GE(sent["latentbus_jetstream_publish_seconds_count"], 1);
  EXPECT_EQ(received["latentbus_jetstream_publish_seconds_count"], 0);
  EXPECT_GE(received[delivered], 1);
}

TEST_F(ClusterDirectoryTest, ATopicPublicationReachesSubscribersOnBothBrokers) {
  auto near = Connect(0, "near");
  auto far = Connect(1, "far");
  auto publisher = Connect(0, "publisher");
  ASSERT_TRUE(near->Subscribe("news").ok());
  ASSERT_TRUE(far->Subscribe("news").ok());
  ASSERT_TRUE(AwaitRemote(0, "far", "news"));
  ASSERT_TRUE(publisher->Send(ToTopic("t1", "news", "hello all")).ok());
  for (agent::Client* c : {near.get(), far.get()}) {
    std::optional<v1::Envelope> got = c->Receive(kWait);
    ASSERT_TRUE(got.has_value()) << c->agent_id();
    EXPECT_EQ(got->text(), "hello all");
    c->Ack(*got);
  }
}

TEST_F(ClusterDirectoryTest, ARequestIsAnsweredFromTheOtherBroker) {
  auto server = Connect(1, "server");
  absl::Mutex mu;
  std::vector<v1::Error> late_errors;
  auto asker = Connect(0, "asker", true, [&](const v1::Error& e) {
    absl::MutexLock lock(&mu);
    late_errors.push_back(e);
  });
  ASSERT_TRUE(AwaitRemote(0, "server"));
  ASSERT_TRUE(AwaitRemote(1, "asker"));
  std::thread serving([&] {
    std::optional<v1::Envelope> request = server->Receive(kWait);
    if (!request.has_value()) return;
    v1::Envelope reply;
    reply.set_text("answer to " + request->text());
    reply.set_message_class(v1::MESSAGE_CLASS_RESULT);
    (void)server->Reply(*request, reply);
  });
  absl::StatusOr<v1::Envelope> reply =
      asker->Request(ToAgent("q1", "server", "question"), absl::Seconds(2));
  serving.join();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->text(), "answer to question");
  EXPECT_EQ(reply->sender_id(), "server");
  // The requester's broker learnt of the reply routed by the other broker: past the
  // deadline it reports no missing reply.
  absl::SleepFor(absl::Milliseconds(2500));
  absl::MutexLock lock(&mu);
  for (const v1::Error& e : late_errors) ADD_FAILURE() << "late error: " << e.ShortDebugString();
}

TEST_F(ClusterDirectoryTest, RegisteringAgainOnTheOtherBrokerEndsTheFirstStream) {
  auto first = Connect(0, "twin", /*reconnect=*/false);
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(AwaitRemote(1, "twin"));
  auto second = Connect(1, "twin");
  ASSERT_NE(second, nullptr);
  // The first stream is told (ABORTED) and the directory keeps the second.
  absl::Status ended;
  for (int i = 0; i < 200 && ended.ok(); ++i) {
    ended = first->status();
    absl::SleepFor(absl::Milliseconds(25));
  }
  EXPECT_TRUE(absl::IsAborted(ended)) << ended;
  ASSERT_TRUE(AwaitRemote(0, "twin"));
  EXPECT_EQ(brokers_[0]->broker().registry().FindRemote("twin")->broker, "two");
  // Messages to it now go to the second stream.
  auto sender = Connect(0, "sender");
  ASSERT_TRUE(sender->Send(ToAgent("m1", "twin", "to the survivor")).ok());
  std::optional<v1::Envelope> got = second->Receive(kWait);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->text(), "to the survivor");
  second->Ack(*got);
}

TEST_F(ClusterDirectoryTest, AClientFailsOverToTheNextBrokerOfItsList) {
  agent::ClientOptions o;
  o.address = "127.0.0.1:" + std::to_string(brokers_[0]->port()) +
              ",127.0.0.1:" + std::to_string(brokers_[1]->port());
  o.agent_id = "roamer";
  o.topics = {"news", "weather"};  // each subscription is published too: one failover still
  o.backoff_initial = absl::Milliseconds(50);
  o.backoff_max = absl::Milliseconds(300);
  auto roamer = agent::Client::Connect(o);
  ASSERT_TRUE(roamer.ok()) << roamer.status();
  auto sender = Connect(1, "sender");
  ASSERT_TRUE(AwaitRemote(1, "roamer"));
  ASSERT_TRUE(sender->Send(ToAgent("m1", "roamer", "before")).ok());
  std::optional<v1::Envelope> got = (*roamer)->Receive(kWait);
  ASSERT_TRUE(got.has_value());
  (*roamer)->Ack(*got);
  // Its broker goes away; the client registers on the other one and messages sent
  // meanwhile (queued in JetStream) reach it there.
  brokers_[0].reset();
  ASSERT_TRUE(sender->Send(ToAgent("m2", "roamer", "during")).ok());
  got = (*roamer)->Receive(absl::Seconds(15));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->text(), "during");
  (*roamer)->Ack(*got);
  EXPECT_GE((*roamer)->reconnects(), 1);
  EXPECT_EQ(brokers_[1]->broker().metrics().CounterValue("latentbus_agent_failovers_total"), 1);
  EXPECT_TRUE(brokers_[1]->broker().registry().Find("roamer").has_value());
}

TEST_F(ClusterDirectoryTest, ALateErrorFollowsASenderThatMovedToTheOtherBroker) {
  { auto x = Connect(0, "x"); }  // x is known, and absent
  auto first = Connect(0, "s", /*reconnect=*/false);
  ASSERT_NE(first, nullptr);
  v1::Envelope late = ToAgent("late", "x", "nobody reads this in time");
  late.mutable_deadline()->set_seconds(absl::ToUnixSeconds(absl::Now() + absl::Seconds(2)));
  ASSERT_TRUE(first->Send(late).ok());
  // s moves to broker 1 before the deadline passes on broker 0, which accepted "late".
  absl::Mutex mu;
  std::optional<v1::Error> seen;
  auto second = Connect(1, "s", /*reconnect=*/true, [&](const v1::Error& e) {
    absl::MutexLock lock(&mu);
    if (e.message_id() == "late") seen = e;
  });
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(AwaitRemote(0, "s"));
  absl::MutexLock lock(&mu);
  EXPECT_TRUE(
      mu.AwaitWithTimeout(absl::Condition(
                              +[](std::optional<v1::Error>* e) { return e->has_value(); }, &seen),
                          absl::Seconds(15)));
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->reason(), v1::DEADLINE_EXCEEDED);
  ASSERT_EQ(seen->agent_ids_size(), 1);
  EXPECT_EQ(seen->agent_ids(0), "x");
}

TEST_F(ClusterDirectoryTest, ADrainingBrokerHandsItsAgentsToTheOtherOneGradually) {
  std::vector<std::unique_ptr<agent::Client>> roamers;
  for (int i = 0; i < 3; ++i) {
    agent::ClientOptions o;
    o.address = "127.0.0.1:" + std::to_string(brokers_[0]->port()) +
                ",127.0.0.1:" + std::to_string(brokers_[1]->port());
    o.agent_id = "roamer" + std::to_string(i);
    o.backoff_initial = absl::Milliseconds(50);
    o.backoff_max = absl::Milliseconds(300);
    auto c = agent::Client::Connect(o);
    ASSERT_TRUE(c.ok()) << c.status();
    roamers.push_back(*std::move(c));
  }
  auto sender = Connect(1, "sender");
  ASSERT_TRUE(AwaitRemote(1, "roamer0"));
  // roamer0 holds a delivery unacked when its broker drains.
  ASSERT_TRUE(sender->Send(ToAgent("held", "roamer0", "held")).ok());
  std::optional<v1::Envelope> held = roamers[0]->Receive(kWait);
  ASSERT_TRUE(held.has_value());
  EXPECT_EQ(held->delivery_attempt(), 1u);
  std::thread drain([this] { brokers_[0]->Drain(absl::Seconds(2)); });
  // Every agent moves to the other broker (straight to it: the GoAway said why).
  for (int i = 0; i < 3; ++i) {
    bool moved = false;
    for (int t = 0; t < 300 && !moved; ++t) {
      moved = brokers_[1]->broker().registry().Find("roamer" + std::to_string(i)).has_value();
      if (!moved) absl::SleepFor(absl::Milliseconds(50));
    }
    EXPECT_TRUE(moved) << "roamer" << i;
  }
  drain.join();
  EXPECT_EQ(brokers_[0]->broker().metrics().CounterValue("latentbus_sessions_shed_total"), 3);
  // The unacked delivery comes again there; new messages flow.
  std::optional<v1::Envelope> again = roamers[0]->Receive(absl::Seconds(15));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->message_id(), "held");
  EXPECT_GE(again->delivery_attempt(), 2u);
  roamers[0]->Ack(*again);
  ASSERT_TRUE(sender->Send(ToAgent("after", "roamer2", "after")).ok());
  std::optional<v1::Envelope> after = roamers[2]->Receive(kWait);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->text(), "after");
  roamers[2]->Ack(*after);
  for (auto& r : roamers) EXPECT_EQ(r->reconnects(), 1);
}

}  // namespace
}  // namespace latentbus::testing
