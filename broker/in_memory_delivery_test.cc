#include "broker/in_memory_delivery.h"

#include <gtest/gtest.h>
#include <malloc.h>

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
  bool Backlogged() const override { return backlogged; }
  bool AcksReturnCredits() const override { return lean; }
  std::vector<v1::BrokerFrame> frames;
  bool closed = false;
  bool backlogged = false;
  bool lean = false;
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

TEST(InMemoryDeliveryTest, AckThroughAcksAPrefixOfTheSessionsDeliveries) {
  InMemoryDelivery d({10, 100}, nullptr);
  auto s = std::make_shared<RecordingSession>();
  s->lean = true;
  d.Attach("b", s, 3);
  for (const char* id : {"m1", "m2", "m3", "m4"}) ASSERT_TRUE(d.Enqueue("b", Msg("a", id)).ok());
  ASSERT_EQ(s->Ids(), (Strings{"m1#1", "m2#1", "m3#1"}));
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(s->frames[i].deliver().delivery_seq(), i + 1);
  ASSERT_TRUE(d.Ack("b", "a", "m1").ok());  // by id: its credit back, m4 goes out
  ASSERT_EQ(s->Ids(), (Strings{"m1#1", "m2#1", "m3#1", "m4#1"}));
  EXPECT_EQ(s->frames[3].deliver().delivery_seq(), 4u);
  auto other = std::make_shared<RecordingSession>();
  EXPECT_EQ(d.AckThrough("b", other.get(), 4), 0u) << "not b's session";
  EXPECT_EQ(d.AckThrough("b", s.get(), 3), 2u);  // m2, m3 (m1 was acked already)
  EXPECT_EQ(d.Pending("b"), 1u);
  EXPECT_EQ(d.AckThrough("b", s.get(), 4), 1u);
  EXPECT_EQ(d.Pending("b"), 0u);
  EXPECT_EQ(d.Stats()[0].credits, 3u) << "every acked delivery gave its credit back";
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

// The dedup window of a recipient holds 16 bytes a key whatever the ids' length: 40
// recipients' full windows of 4096 keys of 513 bytes (the longest ids) take a few MiB of
// heap, where keeping the keys (twice) took about 4.5 MiB a recipient.
TEST(InMemoryDeliveryTest, DedupWindowsCostLittleWhateverTheIdsLength) {
  InMemoryDelivery d({1024, 4096}, nullptr);
  const std::string sender(256, 's');
  const auto heap = [] {  // in use from the arenas and in mmapped chunks (large tables)
    const struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
  };
  const size_t before = heap();
  for (int r = 0; r < 40; ++r) {
    const std::string recipient = "recipient-" + std::to_string(r);
    for (int i = 0; i < 4096; ++i) {
      std::string id = std::to_string(i);
      id.resize(256, '.');
      ASSERT_TRUE(d.Enqueue(recipient, Msg(sender, id)).ok());
      // Delivered and acked, so the queue stays short and only the window remembers it.
      if (i % 512 == 511) {
        auto s = std::make_shared<RecordingSession>();
        d.Attach(recipient, s, 4096);
        for (const auto& f : s->frames) {
          ASSERT_TRUE(d.Ack(recipient, sender, f.deliver().envelope().message_id()).ok());
        }
        d.Detach(recipient, s.get());
      }
    }
  }
  const size_t grown = heap() - before;
  EXPECT_LT(grown, size_t{24} << 20) << grown << " bytes for 40 x 4096 remembered keys";
  // And they are remembered: a repeat of an early one is a duplicate.
  std::string early = "5";
  early.resize(256, '.');
  EXPECT_TRUE(absl::IsAlreadyExists(d.Enqueue("recipient-7", Msg(sender, early))));
}

QueuedMessage Big(const std::string& sender, const std::string& id, size_t bytes) {
  auto e = std::make_shared<v1::Envelope>();
  e->set_sender_id(sender);
  e->set_message_id(id);
  e->set_text(std::string(bytes, 'x'));
  return QueuedMessage{std::move(e), absl::Now()};
}

TEST(InMemoryDeliveryTest, ByteBudgetsPerRecipientAndInAll) {
  InMemoryDelivery::Options o;
  o.max_queue_bytes = 3000 + 3 * InMemoryDelivery::kEntryOverhead + 100;
  o.max_total_bytes = 4 * (1000 + InMemoryDelivery::kEntryOverhead) + 200;
  InMemoryDelivery d(o, nullptr);
  for (const char* id : {"m1", "m2", "m3"}) ASSERT_TRUE(d.Enqueue("b", Big("a", id, 990)).ok());
  absl::Status s = d.Enqueue("b", Big("a", "m4", 990));
  EXPECT_EQ(ReasonOf(s), v1::QUEUE_FULL);
  EXPECT_NE(s.message().find("-byte budget"), std::string::npos) << s;
  ASSERT_TRUE(d.Enqueue("c", Big("a", "m5", 990)).ok());  // another recipient: room in all
  s = d.Enqueue("c", Big("a", "m6", 990));                // but not in the broker's total
  EXPECT_EQ(ReasonOf(s), v1::QUEUE_FULL);
  EXPECT_NE(s.message().find("the broker holds"), std::string::npos) << s;
  // Acks give the bytes back.
  auto session = std::make_shared<RecordingSession>();
  d.Attach("b", session, 10);
  ASSERT_TRUE(d.Ack("b", "a", "m1").ok());
  EXPECT_TRUE(d.Enqueue("c", Big("a", "m6", 990)).ok());
  const uint64_t each =
      Big("a", "mx", 990).envelope->ByteSizeLong() + InMemoryDelivery::kEntryOverhead;
  EXPECT_EQ(d.total_bytes(), 4 * each);  // m2, m3, m5, m6
}

TEST(InMemoryDeliveryTest, AbsentRecipientsAreReleasedAfterTheRetention) {
  InMemoryDelivery::Options o;
  o.absent_retention = absl::Seconds(60);
  InMemoryDelivery d(o, nullptr);
  auto here = std::make_shared<RecordingSession>();
  auto gone = std::make_shared<RecordingSession>();
  d.Attach("here", here, 0);  // connected, nothing delivered yet
  d.Attach("gone", gone, 10);
  ASSERT_TRUE(d.Enqueue("here", Msg("a", "m1")).ok());
  ASSERT_TRUE(d.Enqueue("gone", Msg("a", "m1")).ok());
  ASSERT_TRUE(d.Enqueue("gone", Msg("a", "m2")).ok());
  ASSERT_TRUE(d.Ack("gone", "a", "m1").ok());
  d.Detach("gone", gone.get());  // m2 unacked: queued again for a next session
  const absl::Time now = absl::Now();
  EXPECT_EQ(d.ReleaseAbsent(now + absl::Seconds(30)), 0u);  // not yet
  EXPECT_EQ(d.Pending("gone"), 1u);
  EXPECT_EQ(d.ReleaseAbsent(now + absl::Seconds(61)), 1u);  // m2 dropped
  EXPECT_EQ(d.Pending("gone"), 0u);
  EXPECT_EQ(d.Pending("here"), 1u);  // a connected recipient keeps everything
  EXPECT_EQ(d.Stats().size(), 1u);
  // Its dedup window went too: the same id is new again.
  auto back = std::make_shared<RecordingSession>();
  d.Attach("gone", back, 10);
  EXPECT_TRUE(d.Enqueue("gone", Msg("a", "m1")).ok());
}

TEST(InMemoryDeliveryTest, ABackloggedSessionGetsNothingUntilItResumes) {
  InMemoryDelivery d({10, 100}, nullptr);
  auto s = std::make_shared<RecordingSession>();
  d.Attach("b", s, 10);
  ASSERT_TRUE(d.Enqueue("b", Msg("a", "m1")).ok());
  s->backlogged = true;  // it has not written what it got
  ASSERT_TRUE(d.Enqueue("b", Msg("a", "m2")).ok());
  ASSERT_TRUE(d.Enqueue("b", Msg("a", "m3")).ok());
  EXPECT_EQ(s->Ids(), (Strings{"m1#1"}));  // credits left, but held back
  s->backlogged = false;
  d.Resume("b", s.get());
  EXPECT_EQ(s->Ids(), (Strings{"m1#1", "m2#1", "m3#1"}));
  d.Resume("b", nullptr);  // another session: ignored
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

// A drain does not wait for agents without a stream: they cannot take their messages
// before the broker stops. Those it waits for include one whose stream ends meanwhile.
TEST(InMemoryDeliveryTest, AwaitEmptyDoesNotWaitForAbsentAgents) {
  InMemoryDelivery d({10, 100}, nullptr);
  ASSERT_TRUE(d.Enqueue("gone", Msg("a", "m1")).ok());  // never attached
  EXPECT_TRUE(d.AwaitEmpty(absl::Now()));
  auto s = std::make_shared<RecordingSession>();
  d.Attach("b", s, 10);
  ASSERT_TRUE(d.Enqueue("b", Msg("a", "m2")).ok());
  EXPECT_FALSE(d.AwaitEmpty(absl::Now() + absl::Milliseconds(20)));
  d.Detach("b", s.get());  // m2 goes back to b's queue, b absent
  EXPECT_TRUE(d.AwaitEmpty(absl::Now() + absl::Seconds(5)));
  size_t left = 0;
  for (const RecipientStats& r : d.Stats()) left += r.queued + r.unacked;
  EXPECT_EQ(left, 2u);  // kept, for Stats and the drain's log line
}

}  // namespace
}  // namespace latentbus::broker
