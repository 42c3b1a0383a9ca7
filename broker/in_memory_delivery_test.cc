#include "broker/in_memory_delivery.h"

#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "broker/errors.h"

namespace latentbus::broker {
namespace {

// Records what the delivery layer pushes (test double of the stream).
class RecordingSession final : public AgentSession {
 public:
  bool Push(v1::BrokerFrame frame) override {
    if (closed) return false;
    frames.push_back(std::move(frame));
    return true;
  }
  void End(const absl::Status&) override { closed = true; }
  std::vector<std::string> Ids() const {
    std::vector<std::string> ids;
    for (const auto& f : frames) {
      ids.push_back(f.deliver().envelope().message_id() + "#" +
                    std::to_string(f.deliver().envelope().delivery_attempt()));
    }
    return ids;
  }
  std::vector<v1::BrokerFrame> frames;
  bool closed = false;
};

QueuedMessage Msg(const std::string& sender, const std::string& id) {
  auto e = std::make_shared<v1::Envelope>();
  e->set_sender_id(sender);
  e->set_message_id(id);
  return QueuedMessage{std::move(e), absl::Now()};
}

using Strings = std::vector<std::string>;

TEST(InMemoryDeliveryTest, DeliversOnlyWithCredits) {
  InMemoryDelivery d({10, 100}, nullptr);
  auto s = std::make_shared<RecordingSession>();
  EXPECT_EQ(d.Attach("b", s, 2), 0u);
  for (const char* id : {"m1", "m2", "m3"}) ASSERT_TRUE(d.Enqueue("b", Msg("a", id)).ok());
  EXPECT_EQ(s->Ids(), (Strings{"m1#1", "m2#1"}));
  d.AddCredits("b", s.get(), 5);
  EXPECT_EQ(s->Ids(), (Strings{"m1#1", "m2#1", "m3#1"}));
  EXPECT_EQ(d.Pending("b"), 3u);
  ASSERT_TRUE(d.Ack("b", "a", "m2").ok());
  EXPECT_EQ(d.Pending("b"), 2u);
  EXPECT_FALSE(d.Ack("b", "a", "m2").ok());
}

TEST(InMemoryDeliveryTest, QueueFullIsAnErrorNotADrop) {
  InMemoryDelivery d({2, 100}, nullptr);
  ASSERT_TRUE(d.Enqueue("b", Msg("a", "m1")).ok());
  ASSERT_TRUE(d.Enqueue("b", Msg("a", "m2")).ok());
  absl::Status s = d.Enqueue("b", Msg("a", "m3"));
  EXPECT_EQ(ReasonOf(s), v1::QUEUE_FULL);
  EXPECT_TRUE(d.Enqueue("c", Msg("a", "m3")).ok());  // other recipients unaffected
}

TEST(InMemoryDeliveryTest, DuplicatesAreRefused) {
  InMemoryDelivery d({10, 100}, nullptr);
  ASSERT_TRUE(d.Enqueue("b", Msg("a", "m1")).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(d.Enqueue("b", Msg("a", "m1"))));
  EXPECT_TRUE(d.Enqueue("b", Msg("other", "m1")).ok());  // keyed by sender too
  EXPECT_EQ(d.Pending("b"), 2u);
}

TEST(InMemoryDeliveryTest, UnackedAreRedeliveredInOrderToTheNextSession) {
  InMemoryDelivery d({10, 100}, nullptr);
  auto s1 = std::make_shared<RecordingSession>();
  d.Attach("b", s1, 10);
  for (const char* id : {"m1", "m2", "m3"}) ASSERT_TRUE(d.Enqueue("b", Msg("a", id)).ok());
  ASSERT_TRUE(d.Ack("b", "a", "m2").ok());
  d.Detach("b", s1.get());
  auto s2 = std::make_shared<RecordingSession>();
  EXPECT_EQ(d.Attach("b", s2, 10), 2u);
  EXPECT_EQ(s2->Ids(), (Strings{"m1#2", "m3#2"}));
}

TEST(InMemoryDeliveryTest, ReplacingSessionMovesUnackedToTheNewOne) {
  InMemoryDelivery d({10, 100}, nullptr);
  auto s1 = std::make_shared<RecordingSession>();
  d.Attach("b", s1, 10);
  ASSERT_TRUE(d.Enqueue("b", Msg("a", "m1")).ok());
  auto s2 = std::make_shared<RecordingSession>();
  d.Attach("b", s2, 10);
  d.Detach("b", s1.get());  // late detach of the old session is a no-op
  EXPECT_EQ(s2->Ids(), (Strings{"m1#2"}));
  ASSERT_TRUE(d.Enqueue("b", Msg("a", "m2")).ok());
  EXPECT_EQ(s2->Ids(), (Strings{"m1#2", "m2#1"}));
}

TEST(InMemoryDeliveryTest, ExpireRemovesOnlyNeverDelivered) {
  InMemoryDelivery d({10, 100}, nullptr);
  auto s = std::make_shared<RecordingSession>();
  d.Attach("b", s, 1);
  ASSERT_TRUE(d.Enqueue("b", Msg("a", "m1")).ok());
  ASSERT_TRUE(d.Enqueue("b", Msg("a", "m2")).ok());
  EXPECT_FALSE(d.Expire("b", "a", "m1"));  // delivered
  EXPECT_TRUE(d.Expire("b", "a", "m2"));
  EXPECT_FALSE(d.Expire("b", "a", "m2"));
  EXPECT_TRUE(d.Enqueue("b", Msg("a", "m2")).ok());  // a retry with the same id is accepted
}

TEST(InMemoryDeliveryTest, DedupWindowForgetsTheOldestKeys) {
  InMemoryDelivery d({10, 2}, nullptr);
  ASSERT_TRUE(d.Enqueue("b", Msg("a", "m1")).ok());
  ASSERT_TRUE(d.Enqueue("b", Msg("a", "m2")).ok());
  ASSERT_TRUE(d.Enqueue("b", Msg("a", "m3")).ok());  // m1 leaves the window
  EXPECT_TRUE(absl::IsAlreadyExists(d.Enqueue("b", Msg("a", "m2"))));
  EXPECT_TRUE(absl::IsAlreadyExists(d.Enqueue("b", Msg("a", "m3"))));
  EXPECT_TRUE(d.Enqueue("b", Msg("a", "m1")).ok());  // remembered no longer: queued again
  EXPECT_EQ(d.Pending("b"), 4u);
}

TEST(InMemoryDeliveryTest, ExpiredThenRetriedMessageStaysInTheWindow) {
  // m1, m2 (expires), m2 retried, m3, m2 again: the second retry is a duplicate. (The
  // expired key's stale place in the window's order once evicted the retry's key early.)
  InMemoryDelivery d({10, 2}, nullptr);
  ASSERT_TRUE(d.Enqueue("b", Msg("a", "m1")).ok());
  ASSERT_TRUE(d.Enqueue("b", Msg("a", "m2")).ok());
  ASSERT_TRUE(d.Expire("b", "a", "m2"));
  ASSERT_TRUE(d.Enqueue("b", Msg("a", "m2")).ok());
  ASSERT_TRUE(d.Enqueue("b", Msg("a", "m3")).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(d.Enqueue("b", Msg("a", "m2"))));
  auto s = std::make_shared<RecordingSession>();
  d.Attach("b", s, 10);
  EXPECT_EQ(s->Ids(), (Strings{"m1#1", "m2#1", "m3#1"}));
}

TEST(InMemoryDeliveryTest, AwaitEmptyWaitsForAcks) {
  InMemoryDelivery d({10, 100}, nullptr);
  EXPECT_TRUE(d.AwaitEmpty(absl::Now()));
  auto s = std::make_shared<RecordingSession>();
  d.Attach("b", s, 10);
  ASSERT_TRUE(d.Enqueue("b", Msg("a", "m1")).ok());
  EXPECT_FALSE(d.AwaitEmpty(absl::Now() + absl::Milliseconds(20)));
  ASSERT_TRUE(d.Ack("b", "a", "m1").ok());
  EXPECT_TRUE(d.AwaitEmpty(absl::Now() + absl::Seconds(5)));
}

}  // namespace
}  // namespace latentbus::broker
