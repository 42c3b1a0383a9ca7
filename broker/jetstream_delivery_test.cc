// JetStreamDelivery against a real nats-server (the pinned 2.15, JetStream on, file storage,
// sync_interval always), started per test on free loopback ports in a temporary folder.
#include "broker/jetstream_delivery.h"

#include <gtest/gtest.h>

#include <csignal>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "broker/errors.h"
#include "nats/nats_server_process.h"
#include "telemetry/span_collector.h"

namespace latentbus::broker {
namespace {

// Records what the delivery layer pushes; deliveries arrive on libnats' thread.
class Recorder final : public AgentSession {
 public:
  explicit Recorder(bool lean = false) : lean_(lean) {}
  bool Push(v1::BrokerFrame frame) override {
    absl::MutexLock lock(&mu_);
    frames_.push_back(std::move(frame));
    return true;
  }
  void End(const absl::Status&) override {}
  bool AcksReturnCredits() const override { return lean_; }

  // "id#attempt" of each delivery, in order, once at least `n` arrived (or after 10 s).
  std::vector<std::string> AwaitIds(size_t n, absl::Duration timeout = absl::Seconds(10)) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, n]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return frames_.size() >= n; };
    mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
    std::vector<std::string> ids;
    for (const auto& f : frames_) {
      ids.push_back(f.deliver().envelope().message_id() + "#" +
                    std::to_string(f.deliver().envelope().delivery_attempt()));
    }
    return ids;
  }
  std::vector<std::string> Traceparents() {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> out;
    for (const auto& f : frames_) out.push_back(f.deliver().envelope().traceparent());
    return out;
  }
  std::vector<uint64_t> Seqs() {
    absl::MutexLock lock(&mu_);
    std::vector<uint64_t> seqs;
    for (const auto& f : frames_) seqs.push_back(f.deliver().delivery_seq());
    return seqs;
  }

 private:
  const bool lean_;
  absl::Mutex mu_;
  std::vector<v1::BrokerFrame> frames_ ABSL_GUARDED_BY(mu_);
};

QueuedMessage Msg(const std::string& sender, const std::string& id, const std::string& text = "") {
  auto e = std::make_shared<v1::Envelope>();
  e->set_sender_id(sender);
  e->set_message_id(id);
  e->set_text(text.empty() ? "hello " + id : text);
  return QueuedMessage{std::move(e), absl::Now()};
}

using Strings = std::vector<std::string>;

class JetStreamDeliveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nats::NatsServerOptions o;
    o.jetstream = true;
    auto server = nats::NatsServerProcess::Start(o);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  JetStreamDelivery::Options Options(uint32_t depth = 16) {
    JetStreamDelivery::Options o;
    o.servers = server_->url();
    o.max_queue_depth = depth;
    o.pull_expiry = absl::Seconds(1);
    return o;
  }
  std::unique_ptr<JetStreamDelivery> Open(uint32_t depth = 16) {
    auto d = JetStreamDelivery::Create(Options(depth), nullptr);
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? *std::move(d) : nullptr;
  }

  std::unique_ptr<nats::NatsServerProcess> server_;
};

TEST_F(JetStreamDeliveryTest, DeliversInOrderWithinTheCreditsAndAcksFreeThem) {
  auto d = Open();
  ASSERT_NE(d, nullptr);
  auto s = std::make_shared<Recorder>();
  EXPECT_EQ(d->Attach("b", s, 2), 0u);
  for (const char* id : {"m1", "m2", "m3"}) ASSERT_TRUE(d->Enqueue("b", Msg("a", id)).ok());
  EXPECT_EQ(s->AwaitIds(2), (Strings{"m1#1", "m2#1"}));
  // No credit for the third.
  EXPECT_EQ(s->AwaitIds(3, absl::Milliseconds(500)), (Strings{"m1#1", "m2#1"}));
  d->AddCredits("b", s.get(), 5);
  EXPECT_EQ(s->AwaitIds(3), (Strings{"m1#1", "m2#1", "m3#1"}));
  EXPECT_EQ(s->Seqs(), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(d->Pending("b"), 3u);
  ASSERT_TRUE(d->Ack("b", "a", "m2").ok());
  EXPECT_FALSE(d->Ack("b", "a", "m2").ok());
  EXPECT_EQ(d->AckThrough("b", s.get(), 3), 2u);
  // Acks are published without waiting; the server counts them shortly after.
  for (int i = 0; i < 50 && d->Pending("b") > 0; ++i) absl::SleepFor(absl::Milliseconds(20));
  EXPECT_EQ(d->Pending("b"), 0u);
  EXPECT_TRUE(d->AwaitEmpty(absl::Now() + absl::Seconds(1)));
}

TEST_F(JetStreamDeliveryTest, ARepeatedMessageIdIsStoredOnce) {
  auto d = Open();
  ASSERT_NE(d, nullptr);
  ASSERT_TRUE(d->Enqueue("b", Msg("a", "m1")).ok());
  absl::Status again = d->Enqueue("b", Msg("a", "m1"));
  EXPECT_TRUE(absl::IsAlreadyExists(again)) << again;
  // The same id from another sender, or to another recipient, is another message.
  EXPECT_TRUE(d->Enqueue("b", Msg("z", "m1")).ok());
  EXPECT_TRUE(d->Enqueue("c", Msg("a", "m1")).ok());
  auto s = std::make_shared<Recorder>();
  EXPECT_EQ(d->Attach("b", s, 10), 2u);
  EXPECT_EQ(s->AwaitIds(2), (Strings{"m1#1", "m1#1"}));
}

TEST_F(JetStreamDeliveryTest, AFullRecipientIsQueueFullAndOthersGoOn) {
  auto d = Open(/*depth=*/3);
  ASSERT_NE(d, nullptr);
  for (const char* id : {"m1", "m2", "m3"}) ASSERT_TRUE(d->Enqueue("b", Msg("a", id)).ok());
  absl::Status full = d->Enqueue("b", Msg("a", "m4"));
  EXPECT_EQ(ReasonOf(full), v1::QUEUE_FULL) << full;
  EXPECT_TRUE(d->Enqueue("c", Msg("a", "m4")).ok());
  // Acked messages make room again.
  auto s = std::make_shared<Recorder>();
  d->Attach("b", s, 10);
  ASSERT_EQ(s->AwaitIds(3).size(), 3u);
  EXPECT_EQ(d->AckThrough("b", s.get(), 3), 3u);
  absl::Status room = absl::UnknownError("not tried");
  for (int i = 0; i < 50 && !room.ok(); ++i) {
    room = d->Enqueue("b", Msg("a", "m5"));
    if (!room.ok()) absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(room.ok()) << room;
}

TEST_F(JetStreamDeliveryTest, UnackedDeliveriesComeAgainToTheNextSessionOnAnyBroker) {
  auto first = Open();
  auto second = Open();  // another broker on the same stream
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  auto s1 = std::make_shared<Recorder>();
  first->Attach("b", s1, 10);
  for (const char* id : {"m1", "m2"}) ASSERT_TRUE(first->Enqueue("b", Msg("a", id)).ok());
  ASSERT_EQ(s1->AwaitIds(2), (Strings{"m1#1", "m2#1"}));
  ASSERT_TRUE(first->Ack("b", "a", "m1").ok());
  first->Detach("b", s1.get());
  // The agent reconnects to the second broker: m2 again, as a later attempt (a pull
  // request the first broker still had open may have bounced it once more on the way).
  auto s2 = std::make_shared<Recorder>();
  second->Attach("b", s2, 10);
  Strings got = s2->AwaitIds(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0] == "m2#2" || got[0] == "m2#3") << got[0];
  EXPECT_EQ(s2->AwaitIds(2, absl::Milliseconds(500)).size(), 1u);
}

TEST_F(JetStreamDeliveryTest, WhatWasAcceptedOutlivesTheBroker) {
  {
    auto d = Open();
    ASSERT_NE(d, nullptr);
    for (const char* id : {"m1", "m2", "m3"}) ASSERT_TRUE(d->Enqueue("b", Msg("a", id)).ok());
  }  // the broker is gone; nobody had attached
  auto restarted = Open();
  ASSERT_NE(restarted, nullptr);
  auto s = std::make_shared<Recorder>();
  EXPECT_EQ(restarted->Attach("b", s, 10), 3u);
  EXPECT_EQ(s->AwaitIds(3), (Strings{"m1#1", "m2#1", "m3#1"}));
}

TEST_F(JetStreamDeliveryTest, OnRevisionTwoEachAckGivesItsCreditBack) {
  auto d = Open();
  ASSERT_NE(d, nullptr);
  auto s = std::make_shared<Recorder>(/*lean=*/true);
  d->Attach("b", s, 1);
  for (const char* id : {"m1", "m2", "m3"}) ASSERT_TRUE(d->Enqueue("b", Msg("a", id)).ok());
  ASSERT_EQ(s->AwaitIds(1), (Strings{"m1#1"}));
  EXPECT_EQ(d->AckThrough("b", s.get(), 1), 1u);
  ASSERT_EQ(s->AwaitIds(2), (Strings{"m1#1", "m2#1"}));
  ASSERT_TRUE(d->Ack("b", "a", "m2").ok());
  EXPECT_EQ(s->AwaitIds(3), (Strings{"m1#1", "m2#1", "m3#1"}));
}

// A message the routing broker recorded carries its send span through JetStream (the
// Lb-Trace header): the delivering broker records queue wait and deliver under it and the
// delivered traceparent names the deliver span; an unrecorded one is delivered untouched.
TEST_F(JetStreamDeliveryTest, TheBrokersSpanTravelsWithTheStoredMessage) {
  auto collector = std::make_unique<telemetry::SpanCollector>();
  telemetry::SpanCollector* spans = collector.get();
  telemetry::Tracer tracer(telemetry::Sampler(), std::move(collector));
  JetStreamDelivery::Options o = Options();
  o.tracer = &tracer;
  auto d = JetStreamDelivery::Create(o, nullptr);
  ASSERT_TRUE(d.ok()) << d.status();
  auto s = std::make_shared<Recorder>();
  (*d)->Attach("b", s, 4);
  const telemetry::SpanContext send{telemetry::NewTraceId(), telemetry::NewSpanId(),
                                    telemetry::kSampledFlag, false};
  QueuedMessage traced = Msg("a", "m1");
  traced.trace = send;
  ASSERT_TRUE((*d)->Enqueue("b", traced).ok());
  QueuedMessage plain = Msg("a", "m2");
  std::const_pointer_cast<v1::Envelope>(plain.envelope)->set_traceparent("from-the-sender");
  ASSERT_TRUE((*d)->Enqueue("b", plain).ok());
  ASSERT_EQ(s->AwaitIds(2), (Strings{"m1#1", "m2#1"}));
  ASSERT_TRUE(spans->Await(2, absl::Seconds(10)));
  std::vector<telemetry::SpanData> deliver = spans->Named("latentbus.broker.deliver");
  std::vector<telemetry::SpanData> wait = spans->Named("latentbus.broker.queue_wait");
  ASSERT_EQ(deliver.size(), 1u);
  ASSERT_EQ(wait.size(), 1u);
  EXPECT_EQ(deliver[0].context.trace_id, send.trace_id);
  EXPECT_EQ(deliver[0].parent_span_id, send.span_id);
  EXPECT_EQ(wait[0].parent_span_id, send.span_id);
  EXPECT_EQ(telemetry::AttributeText(deliver[0], "latentbus.recipient"), "b");
  const std::vector<std::string> delivered = s->Traceparents();
  std::optional<telemetry::SpanContext> first = telemetry::ParseTraceparent(delivered[0]);
  ASSERT_TRUE(first.has_value()) << delivered[0];
  EXPECT_EQ(first->span_id, deliver[0].context.span_id);
  EXPECT_EQ(delivered[1], "from-the-sender");
}

TEST_F(JetStreamDeliveryTest, ExpireRemovesOnlyWhatWasNeverDelivered) {
  auto d = Open();
  ASSERT_NE(d, nullptr);
  for (const char* id : {"m1", "m2"}) ASSERT_TRUE(d->Enqueue("b", Msg("a", id)).ok());
  EXPECT_TRUE(d->Expire("b", "a", "m2"));
  EXPECT_FALSE(d->Expire("b", "a", "m2"));
  auto s = std::make_shared<Recorder>();
  EXPECT_EQ(d->Attach("b", s, 10), 1u);
  EXPECT_EQ(s->AwaitIds(1), (Strings{"m1#1"}));
  EXPECT_FALSE(d->Expire("b", "a", "m1"));  // delivered: the recipient has it
  EXPECT_EQ(s->AwaitIds(2, absl::Milliseconds(300)), (Strings{"m1#1"}));
}

TEST_F(JetStreamDeliveryTest, AnAbsentRecipientIsReleasedAfterTheRetention) {
  auto o = Options();
  o.absent_retention = absl::Seconds(1);
  auto d = JetStreamDelivery::Create(o, nullptr);
  ASSERT_TRUE(d.ok()) << d.status();
  auto s = std::make_shared<Recorder>();
  (*d)->Attach("b", s, 1);
  for (const char* id : {"m1", "m2", "m3"}) ASSERT_TRUE((*d)->Enqueue("b", Msg("a", id)).ok());
  ASSERT_EQ(s->AwaitIds(1).size(), 1u);
  (*d)->Detach("b", s.get());
  EXPECT_EQ((*d)->ReleaseAbsent(absl::Now()), 0u);  // not yet
  // After the retention all three go, once the session's last pull request has expired
  // and the delivery it held is back (the broker calls ReleaseAbsent periodically).
  size_t dropped = 0;
  for (int i = 0; i < 50 && dropped == 0; ++i) {
    dropped = (*d)->ReleaseAbsent(absl::Now() + absl::Seconds(2));
    if (dropped == 0) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(dropped, 3u);
  auto again = std::make_shared<Recorder>();
  EXPECT_EQ((*d)->Attach("b", again, 10), 0u);
}

TEST_F(JetStreamDeliveryTest, ASlowHandlerKeepsItsDeliveryPastTheAckWait) {
  auto o = Options();
  o.ack_wait = absl::Seconds(1);
  auto d = JetStreamDelivery::Create(o, nullptr);
  ASSERT_TRUE(d.ok()) << d.status();
  auto s = std::make_shared<Recorder>();
  (*d)->Attach("b", s, 10);
  ASSERT_TRUE((*d)->Enqueue("b", Msg("a", "m1")).ok());
  ASSERT_EQ(s->AwaitIds(1), (Strings{"m1#1"}));
  // Three ack waits later the session still holds it, and it came only once.
  EXPECT_EQ(s->AwaitIds(2, absl::Seconds(3)), (Strings{"m1#1"}));
  EXPECT_TRUE((*d)->Ack("b", "a", "m1").ok());
}

TEST(JetStreamDeliveryErrorsTest, NoServerIsUnavailableAndNamesTheAddress) {
  JetStreamDelivery::Options o;
  o.servers = "nats://127.0.0.1:1";
  auto d = JetStreamDelivery::Create(o, nullptr);
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(absl::IsUnavailable(d.status())) << d.status();
  EXPECT_NE(d.status().message().find("127.0.0.1:1"), std::string::npos) << d.status();
}

TEST(JetStreamDeliveryErrorsTest, AServerWithoutJetStreamIsRefusedWithTheReason) {
  nats::NatsServerOptions so;  // JetStream off
  auto server = nats::NatsServerProcess::Start(so);
  ASSERT_TRUE(server.ok()) << server.status();
  JetStreamDelivery::Options o;
  o.servers = (*server)->url();
  o.publish_timeout = absl::Seconds(1);
  auto d = JetStreamDelivery::Create(o, nullptr);
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(d.status())) << d.status();
  EXPECT_NE(d.status().message().find("JetStream"), std::string::npos) << d.status();
}

// A broker draining or shutting down (ShuttingDown) stops waiting on servers that went
// away: a send fails as soon as the connection is closed (0.6 s after the server died),
// not after the 5 s JetStream timeout, and the layer is destroyed as quickly. Without the
// call the same send waits the full timeout (the servers may come back).
TEST_F(JetStreamDeliveryTest, AShuttingDownLayerDoesNotWaitOnServersThatWentAway) {
  auto d = Open();
  ASSERT_NE(d, nullptr);
  auto s = std::make_shared<Recorder>();
  d->Attach("b", s, 4);
  ASSERT_TRUE(d->Enqueue("b", Msg("a", "m1")).ok());
  d->ShuttingDown();
  ASSERT_TRUE(server_->Signal(SIGKILL).ok());
  const absl::Time start = absl::Now();
  EXPECT_FALSE(d->Enqueue("b", Msg("a", "m2")).ok());
  d.reset();
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

}  // namespace
}  // namespace latentbus::broker
