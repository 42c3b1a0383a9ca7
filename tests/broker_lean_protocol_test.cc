// Stream protocol revision 2 ("lean frames", broker.proto) against a real broker on
// loopback: negotiation, SendResult only when asked, a reply acking its request, acks
// riding on sends and acking cumulatively, acks giving delivery credits back, and send
// credits riding on frames the broker writes anyway. Revision 1 stays as it was
// (broker_stream_test.cc runs every stream test on it).
#include <gtest/gtest.h>

#include "tests/broker_harness.h"

namespace latentbus::testing {
namespace {

const v1::ModelSpec kSmol = MakeSpec("smollm2", 64, 48, "int8/g32");
constexpr uint32_t kLean = 2;

v1::AgentFrame SendFrame(const v1::Envelope& envelope, bool want_result) {
  v1::AgentFrame frame;
  frame.set_seq(100);
  *frame.mutable_send()->mutable_envelope() = envelope;
  frame.mutable_send()->set_want_result(want_result);
  return frame;
}

v1::Envelope ReplyTo(const v1::Envelope& request, const std::string& id, const std::string& text) {
  v1::Envelope reply = ToAgent(id, request.sender_id(), text);
  reply.set_correlation_id(request.message_id());
  return reply;
}

TEST(BrokerLeanProtocolTest, RegistrationSettlesOnTheLowerRevision) {
  TestBroker broker;
  TestAgent old_agent(broker.Channel()), lean(broker.Channel()), future(broker.Channel());
  absl::StatusOr<v1::Registered> r1 = old_agent.Register("old", kSmol);
  absl::StatusOr<v1::Registered> r2 = lean.Register("lean", kSmol, {}, 0, kLean);
  absl::StatusOr<v1::Registered> r9 = future.Register("future", kSmol, {}, 0, 9);
  ASSERT_TRUE(r1.ok() && r2.ok() && r9.ok());
  EXPECT_EQ(r1->protocol(), 1u);
  EXPECT_EQ(r2->protocol(), 2u);
  EXPECT_EQ(r9->protocol(), 2u);
}

TEST(BrokerLeanProtocolTest, AnAcceptedSendIsAnsweredOnlyWhenItAsks) {
  TestBroker broker;
  TestAgent alice(broker.Channel()), bob(broker.Channel());
  ASSERT_TRUE(alice.Register("alice", kSmol, {}, 0, kLean).ok());
  ASSERT_TRUE(bob.Register("bob", kSmol).ok());
  alice.Write(SendFrame(ToAgent("quiet", "bob", "no answer wanted"), false));
  EXPECT_EQ(ExpectDelivery(bob).message_id(), "quiet");
  alice.Write(SendFrame(ToAgent("asks", "bob", "answer please"), true));
  EXPECT_EQ(ExpectDelivery(bob).message_id(), "asks");
  // The first frame alice gets is the answer to "asks": "quiet" had none.
  std::optional<v1::BrokerFrame> f = alice.Next();
  ASSERT_TRUE(f.has_value());
  ASSERT_TRUE(f->has_send_result()) << f->DebugString();
  EXPECT_EQ(f->send_result().message_id(), "asks");
  // A refusal is always said.
  alice.Write(SendFrame(ToAgent("lost", "nobody", "to no one"), false));
  v1::Error e = ExpectError(alice, v1::NO_ROUTE);
  EXPECT_EQ(e.message_id(), "lost");
}

TEST(BrokerLeanProtocolTest, AReplyAcksTheRequestItAnswers) {
  TestBroker broker;
  TestAgent client(broker.Channel());
  ASSERT_TRUE(client.Register("client", kSmol).ok());
  {
    TestAgent server(broker.Channel());
    ASSERT_TRUE(server.Register("server", kSmol, {}, 0, kLean).ok());
    v1::Envelope request = ToAgent("req-1", "server", "ping");
    request.set_expects_reply(true);
    client.Send(request);
    v1::Envelope got = ExpectDelivery(server);
    server.Write(SendFrame(ReplyTo(got, "rep-1", "pong"), false));  // and no Ack frame
    EXPECT_EQ(ExpectDelivery(client).text(), "pong");
    EXPECT_TRUE(AwaitNothingPending(broker, "server"));
  }  // the server's stream ends: an unacked request would wait for its next stream
  TestAgent again(broker.Channel());
  ASSERT_TRUE(again.Register("server", kSmol, {}, 0, kLean).ok());
  EXPECT_TRUE(again.NothingWithin(absl::Milliseconds(200))) << "the request came again";
}

TEST(BrokerLeanProtocolTest, OnRevisionOneAReplyDoesNotAck) {
  TestBroker broker;
  TestAgent client(broker.Channel()), server(broker.Channel());
  ASSERT_TRUE(client.Register("client", kSmol).ok());
  ASSERT_TRUE(server.Register("server", kSmol).ok());
  client.Send(ToAgent("req-1", "server", "ping"));
  v1::Envelope got = ExpectDelivery(server);
  server.Send(ReplyTo(got, "rep-1", "pong"));
  EXPECT_EQ(ExpectDelivery(client).text(), "pong");
  EXPECT_EQ(broker.broker().delivery().Pending("server"), 1u);
}

TEST(BrokerLeanProtocolTest, AcksRideOnASendAndMayBeCumulative) {
  TestBroker broker;
  TestAgent alice(broker.Channel()), bob(broker.Channel());
  ASSERT_TRUE(alice.Register("alice", kSmol).ok());
  ASSERT_TRUE(bob.Register("bob", kSmol, {}, 0, kLean).ok());
  for (int i = 1; i <= 4; ++i) alice.Send(ToAgent("m" + std::to_string(i), "bob", "x"));
  std::vector<uint64_t> seqs;
  for (int i = 1; i <= 4; ++i) {
    std::optional<v1::BrokerFrame> f = bob.NextOf(v1::BrokerFrame::kDeliver);
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->deliver().envelope().message_id(), "m" + std::to_string(i));
    seqs.push_back(f->deliver().delivery_seq());
  }
  EXPECT_EQ(seqs, (std::vector<uint64_t>{1, 2, 3, 4}));
  // Acks through 2 and m4 by id, riding on a send to alice.
  v1::AgentFrame frame = SendFrame(ToAgent("b1", "alice", "hello"), false);
  frame.add_acks()->set_through_delivery_seq(2);
  v1::Ack* by_id = frame.add_acks();
  by_id->set_sender_id("alice");
  by_id->set_message_id("m4");
  bob.Write(frame);
  EXPECT_EQ(ExpectDelivery(alice).message_id(), "b1");
  EXPECT_EQ(broker.broker().delivery().Pending("bob"), 1u);  // m3
  // Acks alone, without a frame of their own kind, are taken too.
  v1::AgentFrame acks_only;
  acks_only.add_acks()->set_through_delivery_seq(3);
  bob.Write(acks_only);
  EXPECT_TRUE(AwaitNothingPending(broker, "bob"));
  EXPECT_TRUE(bob.NothingWithin(absl::Milliseconds(100))) << "an error for the acks-only frame";
}

TEST(BrokerLeanProtocolTest, ACumulativeAckCoversOnlyThisStreamsDeliveries) {
  TestBroker broker;
  TestAgent alice(broker.Channel());
  ASSERT_TRUE(alice.Register("alice", kSmol).ok());
  alice.Send(ToAgent("m1", "bob", "x"));  // bob is not there yet: NO_ROUTE
  ExpectError(alice, v1::NO_ROUTE);
  {
    TestAgent bob(broker.Channel());
    ASSERT_TRUE(bob.Register("bob", kSmol, {}, 0, kLean).ok());
    alice.Send(ToAgent("m2", "bob", "x"));
    EXPECT_EQ(ExpectDelivery(bob).message_id(), "m2");
  }  // m2 unacked: waits for bob's next stream
  TestAgent bob(broker.Channel());
  ASSERT_TRUE(bob.Register("bob", kSmol, {}, 0, kLean).ok());
  std::optional<v1::BrokerFrame> f = bob.NextOf(v1::BrokerFrame::kDeliver);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->deliver().envelope().message_id(), "m2");
  EXPECT_EQ(f->deliver().envelope().delivery_attempt(), 2u);
  EXPECT_EQ(f->deliver().delivery_seq(), 1u);  // a new stream counts from 1
  v1::AgentFrame frame;
  frame.mutable_ack()->set_through_delivery_seq(1);
  bob.Write(frame);
  EXPECT_TRUE(AwaitNothingPending(broker, "bob"));
}

TEST(BrokerLeanProtocolTest, EveryAckGivesItsDeliveryCreditBack) {
  TestBroker broker;
  TestAgent alice(broker.Channel()), bob(broker.Channel());
  ASSERT_TRUE(alice.Register("alice", kSmol).ok());
  ASSERT_TRUE(bob.Register("bob", kSmol, {}, /*credits=*/1, kLean).ok());
  for (int i = 1; i <= 3; ++i) alice.Send(ToAgent("m" + std::to_string(i), "bob", "x"));
  for (int i = 1; i <= 3; ++i) {
    std::optional<v1::BrokerFrame> f = bob.NextOf(v1::BrokerFrame::kDeliver);
    ASSERT_TRUE(f.has_value()) << "m" << i << " never came";
    EXPECT_EQ(f->deliver().envelope().message_id(), "m" + std::to_string(i));
    // One credit: nothing more until this one is acked (no Credit frame is ever sent).
    EXPECT_TRUE(bob.NothingWithin(absl::Milliseconds(100)));
    bob.Ack("alice", "m" + std::to_string(i));
  }
  EXPECT_TRUE(AwaitNothingPending(broker, "bob"));
}

TEST(BrokerLeanProtocolTest, OnRevisionOneAnAckGivesNoCredit) {
  TestBroker broker;
  TestAgent alice(broker.Channel()), bob(broker.Channel());
  ASSERT_TRUE(alice.Register("alice", kSmol).ok());
  ASSERT_TRUE(bob.Register("bob", kSmol, {}, /*credits=*/1).ok());
  alice.Send(ToAgent("m1", "bob", "x"));
  alice.Send(ToAgent("m2", "bob", "x"));
  EXPECT_EQ(ExpectDelivery(bob).message_id(), "m1");
  bob.Ack("alice", "m1");
  EXPECT_TRUE(bob.NothingWithin(absl::Milliseconds(200)));
  bob.Credit(1);
  EXPECT_EQ(ExpectDelivery(bob).message_id(), "m2");
}

TEST(BrokerLeanProtocolTest, SendCreditsRideOnTheNextFrame) {
  TestBroker broker;
  TestAgent client(broker.Channel()), server(broker.Channel());
  absl::StatusOr<v1::Registered> r = client.Register("client", kSmol, {}, 0, kLean);
  ASSERT_TRUE(r.ok());
  ASSERT_GE(r->send_credits(), 4u);  // a window wide enough not to need a Credit frame
  ASSERT_TRUE(server.Register("server", kSmol, {}, 0, kLean).ok());
  // Two round trips: each request's credit is waiting by the time the broker handles the
  // next frame from the client, so it rides on a reply at the latest one round trip later.
  uint32_t returned = 0;
  for (int i = 1; i <= 2; ++i) {
    v1::Envelope request = ToAgent("req-" + std::to_string(i), "server", "ping");
    request.set_expects_reply(true);
    client.Write(SendFrame(request, false));
    v1::Envelope got = ExpectDelivery(server);
    server.Write(SendFrame(ReplyTo(got, "rep-" + std::to_string(i), "pong"), false));
    std::optional<v1::BrokerFrame> f = client.NextOf(v1::BrokerFrame::kDeliver);
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->deliver().envelope().message_id(), "rep-" + std::to_string(i));
    returned += f->send_credits();
  }
  EXPECT_GE(returned, 1u);
  EXPECT_LE(returned, 2u);
}

}  // namespace
}  // namespace latentbus::testing
