// The Broker as `latentbus broker` builds it (every component, the default delivery and
// translator), driven without gRPC: registration is done as ConnectReactor does it, with
// recording sessions in place of streams.
#include "broker/broker.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "broker/errors.h"
#include "broker/recording_session.h"

namespace latentbus::broker {
namespace {

v1::ModelSpec Spec(const std::string& model_id) {
  v1::ModelSpec spec;
  spec.set_model_id(model_id);
  spec.set_fingerprint("f-" + model_id);
  spec.set_hidden_size(8);
  spec.set_embedding_size(8);
  spec.set_max_soft_tokens(16);
  spec.mutable_preferred_encoding()->set_dtype(v1::DTYPE_FP32);
  return spec;
}

Principal Anonymous() {
  Principal p;
  p.name = "anonymous";
  p.anonymous = true;
  return p;
}

// What ConnectReactor does when a Register frame arrives.
std::shared_ptr<StreamRecorder> Register(Broker& broker, const std::string& agent_id,
                                         const std::string& model_id, uint32_t credits = 100) {
  auto stream = std::make_shared<StreamRecorder>();
  v1::Register reg;
  reg.set_agent_id(agent_id);
  *reg.mutable_model() = Spec(model_id);
  absl::StatusOr<bool> replaced =
      broker.Register(reg, Anonymous(), stream, credits, [](uint32_t) {});
  EXPECT_TRUE(replaced.ok()) << replaced.status();
  return stream;
}

// What ConnectReactor does when the stream ends.
void Leave(Broker& broker, const std::string& agent_id, const StreamRecorder* stream) {
  broker.Unregister(agent_id, stream);
}

SendOutcome Send(Broker& broker, const std::string& from, const std::string& to,
                 const std::string& id) {
  v1::Envelope e;
  e.set_message_id(id);
  e.mutable_recipient()->set_agent_id(to);
  e.set_text("hello " + to);
  auto principal = std::make_shared<Principal>();
  principal->name = "anonymous";
  principal->anonymous = true;
  absl::Notification done;
  SendOutcome out;
  broker.router().Send(SendContext{from, principal}, e, [&](SendOutcome o) {
    out = std::move(o);
    done.Notify();
  });
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  return out;
}

BrokerOptions Options(int absent_retention_seconds = 3600) {
  BrokerOptions options;
  options.config.limits.absent_retention_seconds = absent_retention_seconds;
  return options;
}

TEST(BrokerTest, ListsItsAgentsAndCountsWhatItRoutes) {
  Broker broker(Options());
  auto alice = Register(broker, "alice", "smol");
  auto bob = Register(broker, "bob", "gemma");
  const SendOutcome out = Send(broker, "alice", "bob", "m1");
  ASSERT_TRUE(out.refused.ok()) << out.refused;
  ASSERT_TRUE(bob->AwaitFrames(1));
  ASSERT_EQ(bob->Delivered().size(), 1u);
  EXPECT_EQ(bob->Delivered()[0].text(), "hello bob");
  EXPECT_EQ(bob->Delivered()[0].sender_id(), "alice");

  const v1::ListAgentsResponse agents = broker.ListAgents();
  ASSERT_EQ(agents.agents_size(), 2);
  EXPECT_EQ(agents.agents(0).agent_id(), "alice");
  EXPECT_EQ(agents.agents(1).model().model_id(), "gemma");
  const v1::GetStatsResponse stats = broker.GetStats();
  EXPECT_EQ(stats.connected_agents(), 2u);
  double messages = 0;
  for (const auto& [name, value] : stats.counters()) {
    if (name.rfind("latentbus_messages_total", 0) == 0) messages += value;
  }
  EXPECT_EQ(messages, 1);
}

TEST(BrokerTest, RegistrationIsCheckedAnnouncedBeforeDeliveriesAndReplacesAnOlderStream) {
  Broker broker(Options());
  auto alice = Register(broker, "alice", "smol");
  auto first = Register(broker, "bob", "gemma");
  ASSERT_TRUE(Send(broker, "alice", "bob", "m1").refused.ok());
  ASSERT_TRUE(first->AwaitFrames(1));
  // A second stream for bob: told how many deliveries wait for it (m1, unacked) before
  // the first of them; the first stream ends with ABORTED.
  auto second = std::make_shared<StreamRecorder>();
  v1::Register reg;
  reg.set_agent_id("bob");
  *reg.mutable_model() = Spec("gemma");
  uint32_t announced = 0;
  size_t frames_at_announce = 1;
  absl::StatusOr<bool> replaced =
      broker.Register(reg, Anonymous(), second, 10, [&](uint32_t pending) {
        announced = pending;
        frames_at_announce = second->frames().size();
      });
  ASSERT_TRUE(replaced.ok()) << replaced.status();
  EXPECT_TRUE(*replaced);
  EXPECT_EQ(announced, 1u);
  EXPECT_EQ(frames_at_announce, 0u);
  EXPECT_TRUE(absl::IsAborted(first->ended())) << first->ended();
  ASSERT_TRUE(second->AwaitFrames(1));
  EXPECT_EQ(second->Delivered().at(0).message_id(), "m1");
  // Refusals: an id that is not a name, a draining broker.
  v1::Register bad;
  bad.set_agent_id("bad id\n");
  EXPECT_EQ(
      ReasonOf(
          broker.Register(bad, Anonymous(), std::make_shared<StreamRecorder>(), 1, [](uint32_t) {})
              .status()),
      v1::INVALID_ARGUMENT);
  broker.BeginDrain("maintenance");
  reg.set_agent_id("carol");
  EXPECT_EQ(
      ReasonOf(
          broker.Register(reg, Anonymous(), std::make_shared<StreamRecorder>(), 1, [](uint32_t) {})
              .status()),
      v1::DRAINING);
}

TEST(BrokerTest, ADrainSaysGoAwayToEveryStreamAndRefusesSends) {
  Broker broker(Options());
  auto alice = Register(broker, "alice", "smol");
  auto bob = Register(broker, "bob", "gemma");
  EXPECT_FALSE(broker.draining());
  broker.BeginDrain("maintenance");
  EXPECT_TRUE(broker.draining());
  for (const auto& stream : {alice, bob}) {
    ASSERT_TRUE(stream->AwaitFrames(1));
    ASSERT_TRUE(stream->frames()[0].has_go_away());
    EXPECT_EQ(stream->frames()[0].go_away().detail(), "maintenance");
  }
  const SendOutcome out = Send(broker, "alice", "bob", "late");
  EXPECT_EQ(ReasonOf(out.refused), v1::DRAINING) << out.refused;
  EXPECT_TRUE(bob->Delivered().empty());
}

// An agent that left with messages queued keeps them for the retention, then the broker's
// periodic sweep releases them and counts what it dropped.
TEST(BrokerTest, AnAbsentAgentsQueueIsReleasedAfterTheRetention) {
  Broker broker(Options(/*absent_retention_seconds=*/1));
  auto alice = Register(broker, "alice", "smol");
  auto bob = Register(broker, "bob", "gemma", /*credits=*/0);  // takes nothing: all queue
  ASSERT_TRUE(Send(broker, "alice", "bob", "q1").refused.ok());
  ASSERT_TRUE(Send(broker, "alice", "bob", "q2").refused.ok());
  EXPECT_EQ(broker.delivery().Pending("bob"), 2u);
  Leave(broker, "bob", bob.get());
  EXPECT_EQ(broker.delivery().Pending("bob"), 2u) << "kept while within the retention";
  // The sweep runs every 250 ms here (a quarter of the retention).
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (broker.metrics().CounterValue("latentbus_released_messages_total", {}) < 2 &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(broker.metrics().CounterValue("latentbus_released_messages_total", {}), 2);
  EXPECT_EQ(broker.metrics().CounterValue("latentbus_released_recipients_total", {}), 1);
  EXPECT_EQ(broker.delivery().Pending("bob"), 0u);
}

}  // namespace
}  // namespace latentbus::broker
