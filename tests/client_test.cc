// The C++ client SDK (agent/client) against a real broker on loopback: send, receive and
// ack, request/reply, topics, errors with their reasons, credits, reconnect with resend.
#include "agent/client/client.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <tuple>

#include "agent/client/channel.h"
#include "latentbus/v1/broker.grpc.pb.h"
#include "proto/error_reason.h"
#include "tests/broker_harness.h"
#include "tests/tcp_proxy.h"

namespace latentbus::testing {
namespace {

using agent::Client;
using agent::ClientOptions;

const v1::ModelSpec kSmol = MakeSpec("smollm2", 64, 48, "int8/g32");
const v1::ModelSpec kGemma = MakeSpec("gemma3", 80, 40, "fp16");

// The stream protocol revision the clients of the running test offer (ClientTest runs
// every test on revision 1 and on revision 2).
uint32_t g_protocol = 2;

class ClientTest : public ::testing::TestWithParam<uint32_t> {
 protected:
  void SetUp() override { g_protocol = GetParam(); }
};

INSTANTIATE_TEST_SUITE_P(Revision, ClientTest, ::testing::Values(1u, 2u),
                         [](const ::testing::TestParamInfo<uint32_t>& info) {
                           return "protocol" + std::to_string(info.param);
                         });

ClientOptions Options(const TestBroker& broker, const std::string& id,
                      std::optional<v1::ModelSpec> model = std::nullopt) {
  ClientOptions o;
  o.protocol = g_protocol;
  o.address = broker.address();
  o.agent_id = id;
  o.model = std::move(model);
  o.backoff_initial = absl::Milliseconds(20);
  o.backoff_max = absl::Milliseconds(200);
  return o;
}

std::unique_ptr<Client> MustConnect(ClientOptions options) {
  absl::StatusOr<std::unique_ptr<Client>> c = Client::Connect(std::move(options));
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *std::move(c) : nullptr;
}

v1::Envelope Text(const std::string& to, const std::string& text) {
  v1::Envelope e;
  e.mutable_recipient()->set_agent_id(to);
  e.set_text(text);
  return e;
}

TEST_P(ClientTest, SendReceiveAck) {
  TestBroker broker;
  auto alice = MustConnect(Options(broker, "alice", kSmol));
  auto bob = MustConnect(Options(broker, "bob", kSmol));
  ASSERT_TRUE(alice && bob);
  EXPECT_EQ(alice->registered().agent_id(), "alice");
  absl::StatusOr<v1::SendResult> r = alice->Send(Text("bob", "hello"));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->recipients_size(), 1);
  EXPECT_EQ(r->recipients(0).agent_id(), "bob");
  EXPECT_FALSE(r->message_id().empty());
  std::optional<v1::Envelope> got = bob->Receive(kWait);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->text(), "hello");
  EXPECT_EQ(got->sender_id(), "alice");
  EXPECT_EQ(got->message_id(), r->message_id());
  EXPECT_TRUE(got->has_sent_at());
  bob->Ack(*got);
  EXPECT_FALSE(bob->Receive(absl::Milliseconds(100)));
}

TEST_P(ClientTest, RefusalsCarryTheirReason) {
  TestBroker broker;
  auto alice = MustConnect(Options(broker, "alice", kSmol));
  auto gemma = MustConnect(Options(broker, "g", kGemma));
  ASSERT_TRUE(alice && gemma);
  absl::StatusOr<v1::SendResult> r = alice->Send(Text("nobody", "x"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(wire::ReasonOf(r.status()), v1::NO_ROUTE) << r.status();
  // A latent to a receiver without a bridge, without text: NEEDS_TEXT naming it.
  v1::Envelope e = Text("g", "");
  *e.mutable_latent() = MakeLatent(kSmol, 3);
  r = alice->Send(e);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(wire::ReasonOf(r.status()), v1::NEEDS_TEXT);
  EXPECT_NE(r.status().message().find("g"), std::string::npos) << r.status();
  // The same message id with text attached goes through (the SDK's resend).
  e.set_text("as text");
  e.set_message_id("fixed-id");
  r = alice->Send(e);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->recipients(0).form(), v1::PAYLOAD_FORM_TEXT);
  EXPECT_EQ(gemma->Receive(kWait)->text(), "as text");
}

TEST_P(ClientTest, RequestReply) {
  TestBroker broker;
  auto client = MustConnect(Options(broker, "client"));  // text-only
  auto server = MustConnect(Options(broker, "server", kSmol));
  ASSERT_TRUE(client && server);
  std::thread serving([&] {
    std::optional<v1::Envelope> req = server->Receive(kWait);
    ASSERT_TRUE(req);
    EXPECT_TRUE(req->expects_reply());
    ASSERT_TRUE(server->Reply(*req, Text("", "pong: " + req->text())).ok());
    server->Ack(*req);
  });
  absl::StatusOr<v1::Envelope> reply = client->Request(Text("server", "ping"), absl::Seconds(10));
  serving.join();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->text(), "pong: ping");
  EXPECT_EQ(reply->sender_id(), "server");
  // The reply went to Request, not to the inbox.
  EXPECT_FALSE(client->Receive(absl::Milliseconds(100)));
}

TEST_P(ClientTest, AReplyAndTheAckAfterItLeaveNothingPendingAndNoStrayAck) {
  TestBroker broker;
  auto client = MustConnect(Options(broker, "client"));
  auto server = MustConnect(Options(broker, "server", kSmol));
  ASSERT_TRUE(client && server);
  EXPECT_EQ(client->protocol(), GetParam());
  std::thread serving([&] {
    std::optional<v1::Envelope> req = server->Receive(kWait);
    ASSERT_TRUE(req);
    ASSERT_TRUE(server->Reply(*req, Text("", "pong")).ok());
    server->Ack(*req);  // revision 2: the reply acked it already; this writes nothing
  });
  absl::StatusOr<v1::Envelope> reply = client->Request(Text("server", "ping"), absl::Seconds(10));
  serving.join();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_TRUE(AwaitNothingPending(broker, "server"));
  EXPECT_TRUE(AwaitNothingPending(broker, "client"));  // the reply's ack, coalesced or not
  EXPECT_EQ(broker.broker().metrics().CounterValue("latentbus_unknown_acks_total"), 0);
}

// A reply refused before it was written (too large) acked nothing: the Ack that follows
// must be written, or the delivery credit never comes back and nothing more arrives.
TEST_P(ClientTest, AReplyRefusedLocallyLeavesTheAckToBeWritten) {
  broker::BrokerConfig config = TestConfig();
  config.limits.max_message_bytes = 2048;
  TestBroker broker(config);
  auto client = MustConnect(Options(broker, "client"));
  ClientOptions server_options = Options(broker, "server", kSmol);
  server_options.delivery_credits = 1;
  auto server = MustConnect(std::move(server_options));
  ASSERT_TRUE(client && server);
  std::thread asking([&] { (void)client->Request(Text("server", "ping"), absl::Seconds(2)); });
  std::optional<v1::Envelope> req = server->Receive(kWait);
  ASSERT_TRUE(req);
  absl::StatusOr<v1::SendResult> r =
      server->Reply(*req, Text("", std::string(100 << 10, 'x')), absl::Seconds(5));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(wire::ReasonOf(r.status()), v1::MESSAGE_TOO_LARGE) << r.status();
  server->Ack(*req);
  asking.join();
  ASSERT_TRUE(client->Send(Text("server", "next"), absl::Seconds(5)).ok());
  std::optional<v1::Envelope> next = server->Receive(kWait);
  ASSERT_TRUE(next) << "the request's credit never came back";
  EXPECT_EQ(next->text(), "next");
}

// One subscriber's full queue does not end a request to a topic: its QUEUE_FULL goes to
// on_error and the reply of a subscriber that got the request ends it.
TEST_P(ClientTest, ATopicRequestSurvivesOneSubscribersFullQueue) {
  broker::BrokerConfig config = TestConfig();
  config.limits.max_queue_depth = 1;
  TestBroker broker(config);
  ClientOptions full_options = Options(broker, "full", kSmol);
  full_options.topics = {"jobs"};
  ClientOptions ok_options = Options(broker, "ok", kSmol);
  ok_options.topics = {"jobs"};
  absl::Mutex mu;
  std::vector<v1::Error> errors;
  ClientOptions asker_options = Options(broker, "asker");
  asker_options.on_error = [&](const v1::Error& e) {
    absl::MutexLock lock(&mu);
    errors.push_back(e);
  };
  auto full = MustConnect(std::move(full_options));
  auto ok = MustConnect(std::move(ok_options));
  auto asker = MustConnect(std::move(asker_options));
  ASSERT_TRUE(full && ok && asker);
  ASSERT_TRUE(asker->Send(Text("full", "fills its queue"), absl::Seconds(5)).ok());
  std::thread serving([&] {
    std::optional<v1::Envelope> req = ok->Receive(kWait);
    ASSERT_TRUE(req);
    ASSERT_TRUE(ok->Reply(*req, Text("", "answer")).ok());
    ok->Ack(*req);
  });
  v1::Envelope question;
  question.mutable_recipient()->set_topic("jobs");
  question.set_text("question");
  absl::StatusOr<v1::Envelope> reply = asker->Request(question, absl::Seconds(10));
  serving.join();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->sender_id(), "ok");
  // The refusal for "full" comes on the asker's stream too, but nothing orders it before
  // the reply (on revision 1 the SendResult carrying it can follow the reply: 6 in 1000
  // runs here): it must come, not come first.
  absl::MutexLock lock(&mu);
  mu.AwaitWithTimeout(absl::Condition(
                          +[](std::vector<v1::Error>* e) { return !e->empty(); }, &errors),
                      absl::Seconds(10));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].reason(), v1::QUEUE_FULL);
  ASSERT_EQ(errors[0].agent_ids_size(), 1);
  EXPECT_EQ(errors[0].agent_ids(0), "full");
}

TEST_P(ClientTest, CloseWritesTheAcksStillWaiting) {
  TestBroker broker;
  auto alice = MustConnect(Options(broker, "alice", kSmol));
  ClientOptions bob_options = Options(broker, "bob", kSmol);
  bob_options.ack_delay = absl::Seconds(30);  // revision 2: the ack waits for a ride
  auto bob = MustConnect(bob_options);
  ASSERT_TRUE(alice && bob);
  ASSERT_TRUE(alice->Send(Text("bob", "hello")).ok());
  std::optional<v1::Envelope> got = bob->Receive(kWait);
  ASSERT_TRUE(got);
  bob->Ack(*got);
  if (GetParam() >= 2) {
    absl::SleepFor(absl::Milliseconds(50));
    EXPECT_EQ(broker.broker().delivery().Pending("bob"), 1u) << "the ack went alone at once";
  }
  bob->Close();
  EXPECT_TRUE(AwaitNothingPending(broker, "bob"));
}

TEST_P(ClientTest, RequestWithoutReplyTimesOut) {
  TestBroker broker;
  auto client = MustConnect(Options(broker, "client"));
  auto silent = MustConnect(Options(broker, "silent", kSmol));
  ASSERT_TRUE(client && silent);
  absl::StatusOr<v1::Envelope> reply =
      client->Request(Text("silent", "anyone?"), absl::Milliseconds(300));
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kDeadlineExceeded) << reply.status();
}

TEST_P(ClientTest, TopicsAndServe) {
  TestBroker broker;
  auto pub = MustConnect(Options(broker, "pub", kSmol));
  ClientOptions sub_options = Options(broker, "sub1");
  sub_options.topics = {"news"};
  auto sub1 = MustConnect(sub_options);
  auto sub2 = MustConnect(Options(broker, "sub2"));
  ASSERT_TRUE(pub && sub1 && sub2);
  ASSERT_TRUE(sub2->Subscribe("news").ok());
  std::atomic<int> served{0};
  std::thread loop([&] {
    EXPECT_TRUE(sub2->Serve([&](const v1::Envelope& m) {
                      EXPECT_EQ(m.text(), "headline");
                      ++served;
                    })
                    .ok());
  });
  v1::Envelope e;
  e.mutable_recipient()->set_topic("news");
  e.set_text("headline");
  absl::StatusOr<v1::SendResult> r = pub->Send(e);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->recipients_size(), 2);
  ASSERT_TRUE(sub1->Receive(kWait));
  for (int i = 0; i < 100 && served.load() == 0; ++i) absl::SleepFor(absl::Milliseconds(20));
  EXPECT_FALSE(sub2->closed());
  sub2->Close();
  EXPECT_TRUE(sub2->closed());
  EXPECT_TRUE(sub2->status().ok()) << "a plain Close is not a failure";
  EXPECT_EQ(sub2->Subscribe("more").code(), absl::StatusCode::kCancelled);
  loop.join();
  // The broker unregisters sub2 when its stream ends.
  for (int i = 0; i < 100 && broker.broker().registry().size() > 2; ++i) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(served.load(), 1);
  ASSERT_TRUE(sub1->Unsubscribe("news").ok());
  r = pub->Send(e);
  EXPECT_FALSE(r.ok());  // no subscriber left
  EXPECT_EQ(wire::ReasonOf(r.status()), v1::NO_ROUTE);
}

TEST_P(ClientTest, ManyConcurrentSendsStayWithinTheSendWindow) {
  broker::BrokerConfig config = TestConfig();
  config.limits.send_credits = 4;
  TestBroker broker(config);
  auto alice = MustConnect(Options(broker, "alice", kSmol));
  ClientOptions bob_options = Options(broker, "bob", kSmol);
  bob_options.delivery_credits = 8;
  auto bob = MustConnect(bob_options);
  ASSERT_TRUE(alice && bob);
  constexpr int kSenders = 4, kEach = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < kSenders; ++t) {
    senders.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        if (!alice->Send(Text("bob", "m")).ok()) ++failures;
      }
    });
  }
  int received = 0;
  while (received < kSenders * kEach) {
    std::optional<v1::Envelope> m = bob->Receive(kWait);
    if (!m) break;
    bob->Ack(*m);  // returns delivery credits: 100 messages through a window of 8
    ++received;
  }
  for (std::thread& t : senders) t.join();
  EXPECT_EQ(failures.load(), 0);  // never NO_CREDIT
  EXPECT_EQ(received, kSenders * kEach);
}

// A bridge that takes its time, so a send can be caught between write and answer.

TEST_P(ClientTest, ReconnectsAfterBrokerRestart) {
  broker::BrokerConfig config = TestConfig();
  config.drain_timeout_seconds = 0;
  auto first = std::make_unique<TestBroker>(config);
  config.listen_address = first->address();
  auto alice = MustConnect(Options(*first, "alice", kSmol));
  ASSERT_TRUE(alice);
  first.reset();
  // A send while the broker is down waits for the reconnect and goes through after
  // (to alice herself: the only agent sure to be registered when it arrives).
  absl::StatusOr<v1::SendResult> later = absl::UnknownError("not run");
  std::thread waiting(
      [&] { later = alice->Send(Text("alice", "sent while down"), absl::Seconds(20)); });
  absl::SleepFor(absl::Milliseconds(300));
  TestBroker second(config);  // same port
  waiting.join();
  ASSERT_TRUE(later.ok()) << later.status();
  std::optional<v1::Envelope> got = alice->Receive(kWait);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->text(), "sent while down");
  EXPECT_GE(alice->reconnects(), 1);
}

// The dedup tests' cast on revision 2: a broker, alice connected to it directly, and g
// through a proxy that can lose, hold or cut g's stream.
struct ProxiedPair {
  explicit ProxiedPair(absl::Duration g_ack_delay = absl::Milliseconds(2))
      : proxy(broker.server().port()) {
    g_protocol = 2;
    alice = MustConnect(Options(broker, "alice"));
    ClientOptions g_options = Options(broker, "g");
    g_options.address = proxy.address();
    g_options.ack_delay = g_ack_delay;
    g = MustConnect(g_options);
  }
  // The case a test is about happened: the broker delivered something again.
  void ExpectARedelivery() {
    EXPECT_GE(broker.broker().metrics().CounterValue("latentbus_redeliveries_total"), 1);
  }
  // Waits (up to 5 s) for the broker to hold nothing unacked for g, and checks it.
  void ExpectNothingPendingForG() {
    for (int i = 0; i < 200 && broker.broker().delivery().Pending("g") > 0; ++i) {
      absl::SleepFor(absl::Milliseconds(25));
    }
    EXPECT_EQ(broker.broker().delivery().Pending("g"), 0u);
  }

  TestBroker broker;
  TcpProxy proxy;
  std::unique_ptr<Client> alice;
  std::unique_ptr<Client> g;
};

// An ack lost with the stream: the broker delivers the message again, and the client acks
// the repeat without handing it to the application twice (revision 2, where an ack may wait
// for a frame to ride on).
TEST(ClientDedupTest, ARepeatOfAnAckedDeliveryIsAckedAndNotHandedOver) {
  ProxiedPair cast(/*g_ack_delay=*/absl::Milliseconds(1500));         // the ack waits, is lost
  auto [alice, g, proxy] = std::tie(cast.alice, cast.g, cast.proxy);  // references
  ASSERT_TRUE(alice && g);
  ASSERT_TRUE(alice->Send(Text("g", "once")).ok());
  std::optional<v1::Envelope> first = g->Receive(kWait);
  ASSERT_TRUE(first);
  g->Ack(*first);
  proxy.Cut();
  // After the reconnect the broker redelivers "once" (it never saw the ack); the
  // application sees only what comes next.
  for (int i = 0; i < 200 && g->reconnects() == 0; ++i) absl::SleepFor(absl::Milliseconds(25));
  ASSERT_GE(g->reconnects(), 1);
  ASSERT_TRUE(alice->Send(Text("g", "next")).ok());
  std::optional<v1::Envelope> second = g->Receive(kWait);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->text(), "next");
  g->Ack(*second);
  EXPECT_FALSE(g->Receive(absl::Milliseconds(300)).has_value());
  cast.ExpectARedelivery();
  cast.ExpectNothingPendingForG();  // the repeat was acked
}

TEST(ClientDedupTest, ARepeatQueuedBeforeTheAckIsNotHandedOverEither) {
  ProxiedPair cast;
  auto [alice, g, proxy] = std::tie(cast.alice, cast.g, cast.proxy);  // references
  ASSERT_TRUE(alice && g);
  ASSERT_TRUE(alice->Send(Text("g", "once")).ok());
  absl::SleepFor(absl::Milliseconds(300));  // "once" waits in g's client, not yet received
  proxy.Cut();
  // After the reconnect the broker delivers "once" again (it was never acked): two
  // copies wait in the client.
  for (int i = 0; i < 200 && g->reconnects() == 0; ++i) absl::SleepFor(absl::Milliseconds(25));
  ASSERT_GE(g->reconnects(), 1);
  absl::SleepFor(absl::Milliseconds(300));
  std::optional<v1::Envelope> first = g->Receive(kWait);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->text(), "once");
  g->Ack(*first);  // acks the waiting copy too
  ASSERT_TRUE(alice->Send(Text("g", "next")).ok());
  std::optional<v1::Envelope> second = g->Receive(kWait);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->text(), "next");
  g->Ack(*second);
  cast.ExpectARedelivery();
  cast.ExpectNothingPendingForG();
}

// Revision 2: a Reply acks its request, so it also keeps a repeat of the request from the
// application, as an Ack does. Here the reply is lost with the stream: after the
// reconnect the broker delivers the request again while the client writes the reply
// again; the repeat is acked, not handed over (before: the application got the request a
// second time, without having acked it, and answered it twice).
TEST(ClientDedupTest, ARepeatOfARequestAlreadyRepliedToIsNotHandedOver) {
  ProxiedPair cast;
  auto [alice, g, proxy] = std::tie(cast.alice, cast.g, cast.proxy);  // references
  ASSERT_TRUE(alice && g);
  absl::StatusOr<v1::Envelope> answer = absl::UnknownError("not run");
  std::thread asking([&] { answer = alice->Request(Text("g", "q?"), absl::Seconds(20)); });
  std::optional<v1::Envelope> request = g->Receive(kWait);
  ASSERT_TRUE(request);
  proxy.Freeze();  // the reply goes nowhere...
  absl::StatusOr<v1::SendResult> replied = absl::UnknownError("not run");
  std::thread replying([&] {
    v1::Envelope reply;
    reply.set_text("a!");
    replied = g->Reply(*request, reply, absl::Seconds(20));
  });
  absl::SleepFor(absl::Milliseconds(200));
  proxy.Cut();  // ...and is lost with the stream
  proxy.Thaw();
  replying.join();
  asking.join();
  ASSERT_TRUE(replied.ok()) << replied.status();
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->text(), "a!");
  EXPECT_GE(g->reconnects(), 1);
  cast.ExpectARedelivery();  // the request came again
  EXPECT_FALSE(g->Receive(absl::Milliseconds(500)).has_value());
  cast.ExpectNothingPendingForG();
}

TEST_P(ClientTest, BrokenNetworkResendsUnansweredAndRedeliversUnacked) {
  TestBroker broker;
  ASSERT_TRUE(broker.broker()
                  .bridges()
                  .Add(std::make_shared<SlowBridge>(kSmol, kGemma, absl::Milliseconds(600)),
                       /*replace=*/false)
                  .ok());
  TcpProxy proxy(broker.server().port());
  ClientOptions alice_options = Options(broker, "alice", kSmol);
  alice_options.address = proxy.address();
  ClientOptions g_options = Options(broker, "g", kGemma);
  g_options.address = proxy.address();
  // alice and her resend come back first (5-10 ms), g after 0.5-1 s: the broker queues
  // the resend for g, absent for that while, and delivers it on g's new stream.
  alice_options.backoff_initial = absl::Milliseconds(10);
  g_options.backoff_initial = absl::Seconds(1);
  auto alice = MustConnect(alice_options);
  auto g = MustConnect(g_options);
  ASSERT_TRUE(alice && g);
  const int connections_before = proxy.connections_accepted();
  // g receives a message and does not ack it before the network breaks.
  ASSERT_TRUE(alice->Send(Text("g", "unacked")).ok());
  std::optional<v1::Envelope> first = g->Receive(kWait);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->delivery_attempt(), 1u);
  // alice's latent is written and still in translation when the network breaks: its
  // answer is lost with the stream, so the client sends it again after reconnecting.
  v1::Envelope e = Text("g", "carried over");
  *e.mutable_latent() = MakeLatent(kSmol, 2);
  absl::StatusOr<v1::SendResult> result = absl::UnknownError("not run");
  std::thread sender([&] { result = alice->Send(e, absl::Seconds(20)); });
  absl::SleepFor(absl::Milliseconds(200));
  proxy.Cut();
  sender.join();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_GE(alice->reconnects(), 1);
  // g gets the unacked message again and the latent once (dedup by message id).
  int unacked = 0, latents = 0;
  while (std::optional<v1::Envelope> m = g->Receive(absl::Seconds(3))) {
    if (m->text() == "unacked") {
      ++unacked;
      EXPECT_GE(m->delivery_attempt(), 2u);
    }
    if (m->has_latent()) ++latents;
    g->Ack(*m);
  }
  EXPECT_EQ(unacked, 1);
  EXPECT_EQ(latents, 1);
  EXPECT_GE(g->reconnects(), 1);
  EXPECT_GT(proxy.connections_accepted(), connections_before);  // new TCP connection
}

TEST_P(ClientTest, BrokerKeepaliveDetectsADeadPeerAndUnregistersIt) {
  broker::BrokerConfig config = TestConfig();
  config.keepalive_time_ms = 200;
  config.keepalive_timeout_ms = 300;
  TestBroker broker(config);
  TcpProxy proxy(broker.server().port());
  ClientOptions o = Options(broker, "ghost", kSmol);
  o.address = proxy.address();
  o.reconnect = false;
  auto ghost = MustConnect(o);
  ASSERT_TRUE(ghost);
  EXPECT_EQ(broker.broker().registry().size(), 1u);
  proxy.Freeze();  // the peer goes silent: no FIN, no RST, no data, no ping acks
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {  // keepalive: ~0.5 s; allow 10 s on a busy box
    absl::SleepFor(absl::Milliseconds(50));
    gone = broker.broker().registry().size() == 0;
  }
  EXPECT_TRUE(gone) << "the broker still lists an agent whose peer is dead";
}

// A broker that stops reading (here: a network that holds every byte) leaves a large
// frame's write waiting on flow control; the Send used to wait until keepalive gave the
// connection up (~40 s) whatever its timeout. Now it fails at its deadline, the stream is
// reset, and the client reconnects once the network carries bytes again.
TEST_P(ClientTest, ASendTheBrokerTakesNothingOfEndsAtItsDeadlineAndTheClientReconnects) {
  TestBroker broker;
  TcpProxy proxy(broker.server().port());
  ClientOptions o = Options(broker, "writer");
  o.address = proxy.address();
  auto writer = MustConnect(o);
  auto reader = MustConnect(Options(broker, "reader"));
  ASSERT_TRUE(writer && reader);
  proxy.Freeze();
  const absl::Time start = absl::Now();
  absl::StatusOr<v1::SendResult> stuck =
      writer->Send(Text("reader", std::string(3 << 20, 'x')), absl::Seconds(1));
  const absl::Duration took = absl::Now() - start;
  ASSERT_FALSE(stuck.ok());
  EXPECT_EQ(stuck.status().code(), absl::StatusCode::kDeadlineExceeded) << stuck.status();
  EXPECT_LT(took, absl::Seconds(10));  // keepalive alone: ~40 s
  proxy.Thaw();
  absl::StatusOr<v1::SendResult> after = writer->Send(Text("reader", "after"), absl::Seconds(20));
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_GE(writer->reconnects(), 1);
  std::optional<v1::Envelope> got = reader->Receive(kWait);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->text(), "after");  // the frame given up on was not sent later
  reader->Ack(*got);
  EXPECT_FALSE(reader->Receive(absl::Milliseconds(300)));
}

TEST_P(ClientTest, ReplacedStreamIsFatalAndNotReconnected) {
  TestBroker broker;
  auto first = MustConnect(Options(broker, "same", kSmol));
  ASSERT_TRUE(first);
  auto second = MustConnect(Options(broker, "same", kSmol));
  ASSERT_TRUE(second);
  for (int i = 0; i < 100 && first->status().ok(); ++i) absl::SleepFor(absl::Milliseconds(20));
  EXPECT_EQ(first->status().code(), absl::StatusCode::kAborted) << first->status();
  absl::StatusOr<v1::SendResult> r = first->Send(Text("same", "x"), absl::Seconds(1));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(first->reconnects(), 0);
}

TEST_P(ClientTest, BadTokenAndUnreachableBrokerFailConnect) {
  broker::BrokerConfig config = TestConfig();
  broker::TokenConfig token;
  token.name = "planner";
  token.token = "s3cret-token";
  token.agents = {"planner-*"};
  config.tokens.push_back(token);
  TestBroker broker(config);
  ClientOptions o = Options(broker, "planner-1");
  o.token = "wrong-token";
  absl::StatusOr<std::unique_ptr<Client>> c = Client::Connect(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnauthenticated) << c.status();
  o.token = "s3cret-token";
  c = Client::Connect(o);
  EXPECT_TRUE(c.ok()) << c.status();
  o.agent_id = "intruder";
  c = Client::Connect(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kPermissionDenied) << c.status();

  ClientOptions nowhere;
  nowhere.address = "127.0.0.1:1";
  nowhere.agent_id = "x";
  nowhere.connect_timeout = absl::Milliseconds(300);
  c = Client::Connect(nowhere);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnavailable) << c.status();
}

TEST_P(ClientTest, MalformedAddressesAreRefusedBeforeConnecting) {
  for (const char* bad : {"127.0.0.1", "127.0.0.1:notaport", "127.0.0.1:0", "127.0.0.1:70000",
                          ":7070", "::1:7070", "host name:7070"}) {
    ClientOptions o;
    o.address = bad;
    o.agent_id = "x";
    o.connect_timeout = absl::Seconds(30);
    const absl::Time start = absl::Now();
    absl::StatusOr<std::unique_ptr<Client>> c = Client::Connect(o);
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << bad << ": " << c.status();
    EXPECT_NE(c.status().message().find("expected host:port"), std::string::npos) << c.status();
    EXPECT_LT(absl::Now() - start, absl::Seconds(1)) << bad;  // no connection attempted
  }
  for (const char* good : {"127.0.0.1:7070", "[::1]:7070", "localhost:1", "dns:///x:1"}) {
    EXPECT_TRUE(agent::CheckBrokerAddress(good).ok()) << good;
  }
}

TEST_P(ClientTest, RefusedConnectionFailsAtOnceNotAfterTheTimeout) {
  // A port nothing listens on: bind one, note it, close it.
  TestBroker gone;
  const std::string address = gone.address();
  gone.server().Drain(absl::ZeroDuration());
  ClientOptions o;
  o.address = address;
  o.agent_id = "x";
  o.connect_timeout = absl::Seconds(60);
  const absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<Client>> c = Client::Connect(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnavailable) << c.status();
  EXPECT_NE(c.status().message().find("refused or unreachable"), std::string::npos) << c.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(30)) << "waited for the 60 s timeout";
}

// A gRPC server whose Connect takes the stream and never reads or answers: a hung or
// impostor broker. (The Register frame fits the stream's flow-control window, so the
// client's write completes.)
class SilentBroker final : public v1::Broker::CallbackService {
 public:
  std::atomic<int> streams{0};  // Connect calls taken

 private:
  grpc::ServerBidiReactor<v1::AgentFrame, v1::BrokerFrame>* Connect(
      grpc::CallbackServerContext*) override {
    ++streams;
    class Reactor final : public grpc::ServerBidiReactor<v1::AgentFrame, v1::BrokerFrame> {
     public:
      void OnCancel() override { Finish(grpc::Status::CANCELLED); }
      void OnDone() override { delete this; }
    };
    return new Reactor;
  }
};

// A SilentBroker listening on a free loopback port.
struct SilentServer {
  SilentServer() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service);
    server = builder.BuildAndStart();
  }
  ~SilentServer() {
    if (server) server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port); }

  SilentBroker service;
  int port = 0;
  std::unique_ptr<grpc::Server> server;
};

TEST_P(ClientTest, ABrokerThatNeverAnswersRegisterFailsConnectAndTheNextIsTried) {
  SilentServer silent;
  ASSERT_NE(silent.server, nullptr);
  const std::string address = silent.address();
  ClientOptions o;
  o.protocol = g_protocol;
  o.address = address;
  o.agent_id = "patient";
  o.connect_timeout = absl::Seconds(1);
  absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<Client>> c = Client::Connect(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnavailable) << c.status();
  EXPECT_NE(c.status().message().find("did not answer Register"), std::string::npos) << c.status();
  EXPECT_NE(c.status().message().find(address), std::string::npos) << c.status();
  // The wait is at least 5 s (a loaded broker may be slow to answer), and bounded.
  EXPECT_GE(absl::Now() - start, absl::Seconds(4));
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));

  // With a list, the next broker is tried and answers.
  TestBroker broker;
  o.address = address + "," + broker.address();
  start = absl::Now();
  c = Client::Connect(o);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));
  (*c)->Close();
}

// Close() while the reader reconnects to a broker that takes the stream and never answers
// Register: it cancels that stream instead of waiting out the Register wait (5 s).
TEST_P(ClientTest, CloseDuringAReconnectThatWaitsForRegisteredReturnsAtOnce) {
  SilentServer silent;
  ASSERT_NE(silent.server, nullptr);
  broker::BrokerConfig config = TestConfig();
  config.drain_timeout_seconds = 0;
  auto first = std::make_unique<TestBroker>(config);
  ClientOptions o = Options(*first, "leaving", kSmol);
  o.address = first->address() + "," + silent.address();
  auto client = MustConnect(o);
  ASSERT_TRUE(client);
  first.reset();  // the client moves on to the silent broker
  for (int i = 0; i < 400 && silent.service.streams.load() == 0; ++i) {
    absl::SleepFor(absl::Milliseconds(25));
  }
  ASSERT_GT(silent.service.streams.load(), 0) << "the client never tried the second broker";
  absl::SleepFor(absl::Milliseconds(100));  // its Register is written and waiting
  const absl::Time start = absl::Now();
  client->Close();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));  // the Register wait alone: 5 s
  EXPECT_EQ(client->reconnects(), 0);
}

TEST_P(ClientTest, OptionsThatCannotWorkAreRefusedBeforeConnecting) {
  TestBroker broker;
  ClientOptions o = Options(broker, "careful");
  o.write_timeout = absl::ZeroDuration();  // would cancel every write
  absl::StatusOr<std::unique_ptr<Client>> c = Client::Connect(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("write_timeout must be positive"), std::string::npos)
      << c.status();
  o = Options(broker, "careful");
  o.delivery_credits = 0;
  c = Client::Connect(o);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << c.status();
  EXPECT_EQ(broker.broker().registry().size(), 0u);
}

TEST_P(ClientTest, OversizeSendIsRefusedLocallyAndTheStreamStays) {
  broker::BrokerConfig config = TestConfig();
  config.limits.max_message_bytes = 2048;
  TestBroker broker(config);
  auto alice = MustConnect(Options(broker, "alice", kSmol));
  ASSERT_TRUE(alice);
  EXPECT_EQ(alice->registered().max_message_bytes(), 2048u);
  absl::StatusOr<v1::SendResult> r =
      alice->Send(Text("alice", std::string(100 << 10, 'x')), absl::Seconds(5));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(wire::ReasonOf(r.status()), v1::MESSAGE_TOO_LARGE) << r.status();
  EXPECT_NE(r.status().message().find("at most 2048"), std::string::npos) << r.status();
  // Nothing went out: the stream was not broken and reopened, and a small send works.
  EXPECT_TRUE(alice->Send(Text("alice", "small"), absl::Seconds(5)).ok());
  EXPECT_EQ(alice->reconnects(), 0);
  EXPECT_EQ(broker.broker().metrics().CounterValue("latentbus_rejects_total",
                                                   {{"reason", "MESSAGE_TOO_LARGE"}}),
            0);
}

TEST_P(ClientTest, OnlyTheAddresseesReplyEndsARequest) {
  TestBroker broker;
  ClientOptions asker_options = Options(broker, "asker");
  asker_options.topics = {"news"};
  auto asker = MustConnect(asker_options);
  auto answerer = MustConnect(Options(broker, "answerer", kSmol));
  auto other = MustConnect(Options(broker, "other", kSmol));
  ASSERT_TRUE(asker && answerer && other);
  absl::StatusOr<v1::Envelope> reply = absl::UnknownError("not run");
  std::thread waiting([&] {
    v1::Envelope q = Text("answerer", "2+2?");
    q.set_message_id("q-1");
    reply = asker->Request(q, absl::Seconds(20));
  });
  std::optional<v1::Envelope> q = answerer->Receive(kWait);
  ASSERT_TRUE(q);
  // `other` publishes to a topic the asker reads, with the request's id as correlation
  // id: the broker delivers it (a topic message answers no request), the client must not
  // take it for the reply.
  v1::Envelope fake;
  fake.mutable_recipient()->set_topic("news");
  fake.set_text("5");
  fake.set_correlation_id("q-1");
  ASSERT_TRUE(other->Send(fake, absl::Seconds(5)).ok());
  std::optional<v1::Envelope> seen = asker->Receive(kWait);  // an ordinary delivery
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->text(), "5");
  v1::Envelope genuine;
  genuine.set_text("4");
  ASSERT_TRUE(answerer->Reply(*q, genuine).ok());
  waiting.join();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->text(), "4");
  EXPECT_EQ(reply->sender_id(), "answerer");
}

}  // namespace
}  // namespace latentbus::testing
