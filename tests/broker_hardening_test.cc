// What an attacker tried against a real broker on loopback, and what must hold: replies
// only from the agents a request went to, requests of different agents kept apart,
// deadlines within the configured bound.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "broker/errors.h"
#include "google/protobuf/unknown_field_set.h"
#include "grpcpp/generic/generic_stub.h"
#include "tests/broker_harness.h"
#include "tests/log_capture.h"

namespace latentbus::testing {
namespace {

using v1::BrokerFrame;

const v1::ModelSpec kSpec = MakeSpec("smollm2", 64, 48);

v1::Envelope Request(const std::string& id, const std::string& to, const std::string& text) {
  v1::Envelope q = ToAgent(id, to, text);
  q.set_expects_reply(true);
  *q.mutable_deadline() = In(absl::Seconds(30));
  return q;
}

// A reply to `correlation_id`; `to` empty: routed by the broker to the requester.
v1::Envelope Reply(const std::string& id, const std::string& correlation_id, const std::string& to,
                   const std::string& text) {
  v1::Envelope a = to.empty() ? v1::Envelope() : ToAgent(id, to, text);
  a.set_message_id(id);
  a.set_text(text);
  a.set_correlation_id(correlation_id);
  a.set_message_class(v1::MESSAGE_CLASS_RESULT);
  return a;
}

double Rejects(TestBroker& broker, const char* reason) {
  return broker.broker().metrics().CounterValue("latentbus_rejects_total", {{"reason", reason}});
}

TEST(BrokerHardeningTest, OnlyTheAgentARequestWentToMayAnswerIt) {
  TestBroker broker;
  TestAgent asker(broker.Channel()), answerer(broker.Channel()), evil(broker.Channel());
  ASSERT_TRUE(asker.Register("asker", kSpec).ok());
  ASSERT_TRUE(answerer.Register("answerer", kSpec).ok());
  ASSERT_TRUE(evil.Register("evil", kSpec).ok());
  asker.Send(Request("req-1", "answerer", "2+2?"));
  ASSERT_TRUE(asker.NextOf(BrokerFrame::kSendResult));
  ASSERT_EQ(ExpectDelivery(answerer).message_id(), "req-1");

  // The forged reply, addressed to the requester: refused, never delivered.
  evil.Send(Reply("forged", "req-1", "asker", "5"));
  v1::Error e = ExpectError(evil, v1::PERMISSION_DENIED);
  EXPECT_EQ(e.message_id(), "forged");
  EXPECT_EQ(Rejects(broker, "PERMISSION_DENIED"), 1);
  // Without a recipient it matches nothing of evil's.
  evil.Send(Reply("forged-2", "req-1", "", "5"));
  ExpectError(evil, v1::NO_ROUTE);

  // The genuine reply still goes through, and it is the first thing the asker receives.
  answerer.Send(Reply("a1", "req-1", "", "4"));
  ASSERT_TRUE(answerer.NextOf(BrokerFrame::kSendResult));
  v1::Envelope got = ExpectDelivery(asker);
  EXPECT_EQ(got.sender_id(), "answerer");
  EXPECT_EQ(got.text(), "4");
  EXPECT_EQ(got.correlation_id(), "req-1");
}

TEST(BrokerHardeningTest, RequestsWithTheSameIdFromTwoAgentsStayApart) {
  TestBroker broker;
  TestAgent asker(broker.Channel()), evil(broker.Channel()), answerer(broker.Channel());
  ASSERT_TRUE(asker.Register("asker", kSpec).ok());
  ASSERT_TRUE(evil.Register("evil", kSpec).ok());
  ASSERT_TRUE(answerer.Register("answerer", kSpec).ok());
  // Message ids are scoped to their sender: both may use "same-1".
  evil.Send(Request("same-1", "answerer", "from evil"));
  ASSERT_TRUE(evil.NextOf(BrokerFrame::kSendResult));
  asker.Send(Request("same-1", "answerer", "from asker"));
  ASSERT_TRUE(asker.NextOf(BrokerFrame::kSendResult));
  v1::Envelope first = ExpectDelivery(answerer), second = ExpectDelivery(answerer);
  ASSERT_EQ(first.sender_id(), "evil");
  ASSERT_EQ(second.sender_id(), "asker");

  // A reply without a recipient cannot say whose request it answers: refused.
  answerer.Send(Reply("r0", "same-1", "", "whose?"));
  v1::Error e = ExpectError(answerer, v1::INVALID_ARGUMENT);
  EXPECT_NE(e.detail().find("name the recipient"), std::string::npos) << e.detail();

  answerer.Send(Reply("r1", "same-1", "asker", "for asker"));
  ASSERT_TRUE(answerer.NextOf(BrokerFrame::kSendResult));
  answerer.Send(Reply("r2", "same-1", "evil", "for evil"));
  ASSERT_TRUE(answerer.NextOf(BrokerFrame::kSendResult));
  EXPECT_EQ(ExpectDelivery(asker).text(), "for asker");
  EXPECT_EQ(ExpectDelivery(evil).text(), "for evil");
}

TEST(BrokerHardeningTest, DeadlinesAreBroughtForwardToTheConfiguredBound) {
  broker::BrokerConfig config = TestConfig();
  config.limits.max_deadline_seconds = 1;
  TestBroker broker(config);
  TestAgent asker(broker.Channel()), answerer(broker.Channel());
  ASSERT_TRUE(asker.Register("asker", kSpec).ok());
  ASSERT_TRUE(answerer.Register("answerer", kSpec).ok());

  const absl::Time start = absl::Now();
  v1::Envelope far = ToAgent("far", "answerer", "answer by the year 9999");
  far.set_expects_reply(true);
  far.mutable_deadline()->set_seconds(253402300000);  // 9999-12-31
  asker.Send(far);
  v1::Envelope no_deadline = ToAgent("none", "answerer", "answer whenever");
  no_deadline.set_expects_reply(true);
  asker.Send(no_deadline);
  ExpectDelivery(answerer);
  ExpectDelivery(answerer);
  // Neither is answered: both requests end after the 1 s bound, state released.
  v1::Error a = ExpectError(asker, v1::DEADLINE_EXCEEDED);
  v1::Error b = ExpectError(asker, v1::DEADLINE_EXCEEDED);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(std::set<std::string>({a.message_id(), b.message_id()}),
            std::set<std::string>({"far", "none"}));
  // A late reply finds no request any more.
  answerer.Send(Reply("late", "far", "", "too late"));
  ExpectError(answerer, v1::NO_ROUTE);
}

constexpr char kAliceToken[] = "alice-secret-token";
constexpr char kBobToken[] = "bob-secret-token";

// alice-* agents may message bob only; bob-* agents anyone. Rate: a burst of 3, then
// one message a minute.
broker::BrokerConfig TokensConfig() {
  broker::BrokerConfig config = TestConfig();
  broker::TokenConfig alice;
  alice.name = "alice";
  alice.token = kAliceToken;
  alice.agents = {"alice*"};
  alice.send_to = {"bob"};
  broker::TokenConfig bob;
  bob.name = "bob";
  bob.token = kBobToken;
  bob.agents = {"bob*"};
  config.tokens = {alice, bob};
  config.limits.rate_per_second = 1.0 / 60;
  config.limits.rate_burst = 3;
  return config;
}

TEST(BrokerHardeningTest, RateLimitIsThePrincipalsAndSurvivesReconnects) {
  TestBroker broker(TokensConfig());
  TestAgent bob(broker.Channel(), kBobToken);
  ASSERT_TRUE(bob.Register("bob", kSpec).ok());
  {
    TestAgent alice(broker.Channel(), kAliceToken);
    ASSERT_TRUE(alice.Register("alice", kSpec).ok());
    for (const char* id : {"m1", "m2", "m3"}) {
      alice.Send(ToAgent(id, "bob", "hi"));
      ASSERT_TRUE(alice.NextOf(BrokerFrame::kSendResult)) << id;
    }
    alice.Send(ToAgent("m4", "bob", "hi"));
    ExpectError(alice, v1::RATE_LIMITED);
  }
  // A new stream, even under another agent id of the same token, starts with no tokens.
  TestAgent again(broker.Channel(), kAliceToken);
  ASSERT_TRUE(again.Register("alice-2", kSpec).ok());
  again.Send(ToAgent("m5", "bob", "hi"));
  ExpectError(again, v1::RATE_LIMITED);
  // Nor does the Publish RPC under yet another sender id get around it.
  auto stub = broker.Stub();
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", std::string("Bearer ") + kAliceToken);
  v1::PublishRequest req;
  *req.mutable_envelope() = ToAgent("p1", "bob", "hi");
  req.mutable_envelope()->set_sender_id("alice-3");
  v1::PublishResponse resp;
  ASSERT_TRUE(stub->Publish(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.error().reason(), v1::RATE_LIMITED) << resp.DebugString();
  // Another token has its own bucket.
  bob.Send(ToAgent("b1", "alice-2", "hello"));
  ASSERT_TRUE(bob.NextOf(BrokerFrame::kSendResult));
}

// A client repeating frames that earn an answer but carry no message (subscription
// changes, which in a cluster rewrite the agent's directory record in JetStream; empty
// frames) used to be answered at line rate: they draw on a bucket of the sender's now,
// the size of its message bucket and apart from it.
TEST(BrokerHardeningTest, FramesAnsweredWithoutAMessageHaveABucketOfTheirOwn) {
  broker::BrokerConfig config = TokensConfig();  // 3 at once, then one a minute
  config.tokens[0].subscribe = {"news"};
  TestBroker broker(config);
  TestAgent bob(broker.Channel(), kBobToken);
  ASSERT_TRUE(bob.Register("bob", kSpec).ok());
  TestAgent alice(broker.Channel(), kAliceToken);
  ASSERT_TRUE(alice.Register("alice", kSpec).ok());
  alice.Send(ToAgent("m0", "bob", "hi"));  // a message first: the other bucket
  ASSERT_TRUE(alice.NextOf(BrokerFrame::kSendResult));
  for (int i = 0; i < 3; ++i) {
    alice.Subscribe("news");
    ASSERT_TRUE(alice.NextOf(BrokerFrame::kSubscribeResult)) << i;
  }
  const uint64_t seq = alice.Subscribe("news");
  v1::Error e = ExpectError(alice, v1::RATE_LIMITED);
  EXPECT_EQ(e.seq(), seq);
  EXPECT_NE(e.detail().find("token:alice exceeds"), std::string::npos) << e.detail();
  EXPECT_NE(e.detail().find("its rate of control frames"), std::string::npos) << e.detail();
  v1::AgentFrame empty;
  empty.set_seq(99);
  ASSERT_TRUE(alice.Write(empty));
  EXPECT_EQ(ExpectError(alice, v1::RATE_LIMITED).seq(), 99u);  // was INVALID_ARGUMENT
  // Messages still have their bucket (two of three tokens left).
  alice.Send(ToAgent("m1", "bob", "hi"));
  ASSERT_TRUE(alice.NextOf(BrokerFrame::kSendResult));
  // Acks take no token and earn no answer.
  alice.Ack("bob", "never-delivered");
  EXPECT_TRUE(alice.NothingWithin(absl::Milliseconds(200)));
}

TEST(BrokerHardeningTest, DirectMessagesFollowTheTokensSendToList) {
  broker::BrokerConfig config = TokensConfig();
  config.limits.rate_per_second = 0;
  TestBroker broker(config);
  TestAgent alice(broker.Channel(), kAliceToken), bob(broker.Channel(), kBobToken),
      carol(broker.Channel(), kBobToken);
  ASSERT_TRUE(alice.Register("alice", kSpec).ok());
  ASSERT_TRUE(bob.Register("bob", kSpec).ok());
  ASSERT_TRUE(carol.Register("bob-carol", kSpec).ok());
  alice.Send(ToAgent("m1", "bob-carol", "not on my list"));
  v1::Error e = ExpectError(alice, v1::PERMISSION_DENIED);
  EXPECT_NE(e.detail().find("may not send to agent 'bob-carol'"), std::string::npos) << e.detail();
  alice.Send(ToAgent("m2", "bob", "on my list"));
  ASSERT_TRUE(alice.NextOf(BrokerFrame::kSendResult));
  EXPECT_EQ(ExpectDelivery(bob).message_id(), "m2");
  // carol may ask alice, and alice may answer her although carol is not on alice's list.
  carol.Send(Request("q1", "alice", "ping?"));
  ASSERT_TRUE(carol.NextOf(BrokerFrame::kSendResult));
  EXPECT_EQ(ExpectDelivery(alice).message_id(), "q1");
  alice.Send(Reply("r1", "q1", "", "pong"));
  ASSERT_TRUE(alice.NextOf(BrokerFrame::kSendResult));
  EXPECT_EQ(ExpectDelivery(carol).text(), "pong");
}

TEST(BrokerHardeningTest, UnknownFieldsAndEnumValuesFromANewerPeerAreRelayed) {
  TestBroker broker;
  TestAgent alice(broker.Channel()), bob(broker.Channel());
  ASSERT_TRUE(alice.Register("alice", kSpec).ok());
  ASSERT_TRUE(bob.Register("bob", kSpec).ok());
  v1::Envelope e = ToAgent("m1", "bob", "from the future");
  e.set_message_class(static_cast<v1::MessageClass>(77));  // a class this broker lacks
  e.GetReflection()->MutableUnknownFields(&e)->AddVarint(40, 7);
  e.GetReflection()->MutableUnknownFields(&e)->AddLengthDelimited(41, "new bytes");
  alice.Send(e);
  ASSERT_TRUE(alice.NextOf(BrokerFrame::kSendResult));
  v1::Envelope got = ExpectDelivery(bob);
  EXPECT_EQ(got.text(), "from the future");
  EXPECT_EQ(static_cast<int>(got.message_class()), 77);
  const google::protobuf::UnknownFieldSet& unknown = got.GetReflection()->GetUnknownFields(got);
  ASSERT_EQ(unknown.field_count(), 2);
  EXPECT_EQ(unknown.field(0).number(), 40);
  EXPECT_EQ(unknown.field(0).varint(), 7u);
  EXPECT_EQ(unknown.field(1).number(), 41);
  EXPECT_EQ(unknown.field(1).length_delimited(), "new bytes");
}

TEST(BrokerHardeningTest, SendsBeyondTheSendWindowGetNoCredit) {
  broker::BrokerConfig config = TestConfig();
  config.limits.send_credits = 2;
  // On the workers: a translation run inline on the stream's thread finishes before the
  // stream's next frame is read, so the window would never fill.
  config.translation.inline_max_tokens = 0;
  TestBroker broker(config);
  const v1::ModelSpec gemma = MakeSpec("gemma3", 80, 40);
  ASSERT_TRUE(broker.broker()
                  .bridges()
                  .Add(std::make_shared<SlowBridge>(kSpec, gemma, absl::Milliseconds(500)),
                       /*replace=*/false)
                  .ok());
  TestAgent alice(broker.Channel()), bob(broker.Channel());
  absl::StatusOr<v1::Registered> r = alice.Register("alice", kSpec);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->send_credits(), 2u);
  ASSERT_TRUE(bob.Register("bob", gemma).ok());
  // Three latents written back to back: the first two are in translation (half a second
  // each) when the third arrives, so the window is spent.
  for (const char* id : {"m1", "m2", "m3"}) {
    v1::Envelope e = ToAgent(id, "bob", "");
    *e.mutable_latent() = MakeLatent(kSpec, 2);
    alice.Send(e);
  }
  int results = 0, no_credit = 0;
  for (int i = 0; i < 3; ++i) {
    std::optional<BrokerFrame> f = alice.Next();
    ASSERT_TRUE(f.has_value());
    if (f->has_send_result()) ++results;
    if (f->has_error()) {
      EXPECT_EQ(f->error().reason(), v1::NO_CREDIT) << f->DebugString();
      EXPECT_EQ(f->error().message_id(), "m3");
      ++no_credit;
    }
  }
  EXPECT_EQ(results, 2);
  EXPECT_EQ(no_credit, 1);
  EXPECT_EQ(Rejects(broker, "NO_CREDIT"), 1);
}

TEST(BrokerHardeningTest, FramesOverTheSizeLimitEndTheStreamWithResourceExhausted) {
  broker::BrokerConfig config = TestConfig();
  config.limits.max_message_bytes = 4096;
  TestBroker broker(config);
  TestAgent alice(broker.Channel()), bob(broker.Channel());
  ASSERT_TRUE(alice.Register("alice", kSpec).ok());
  ASSERT_TRUE(bob.Register("bob", kSpec).ok());
  // Over the limit but within the 64 KiB of framing slack: a MESSAGE_TOO_LARGE Error.
  alice.Send(ToAgent("m1", "bob", std::string(8192, 'x')));
  v1::Error e = ExpectError(alice, v1::MESSAGE_TOO_LARGE);
  EXPECT_EQ(e.message_id(), "m1");
  // Far over it: gRPC refuses the frame and the stream ends RESOURCE_EXHAUSTED.
  alice.Send(ToAgent("m2", "bob", std::string(1 << 20, 'x')));
  EXPECT_EQ(alice.AwaitEnd().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // bob got neither, and is still served.
  TestAgent carol(broker.Channel());
  ASSERT_TRUE(carol.Register("carol", kSpec).ok());
  carol.Send(ToAgent("c1", "bob", "small"));
  EXPECT_EQ(ExpectDelivery(bob).message_id(), "c1");
}

// Opens Connect as raw bytes, writes `frames` as they are, half-closes, and collects
// what comes back: the frames that decode, and the final status.
struct RawOutcome {
  std::vector<v1::BrokerFrame> frames;
  grpc::Status status;
};
RawOutcome RawConnect(const std::shared_ptr<grpc::Channel>& channel,
                      const std::vector<std::string>& frames) {
  RawOutcome out;
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::CompletionQueue cq;
  void* tag = nullptr;
  bool ok = false;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call =
      stub.PrepareCall(&ctx, "/latentbus.v1.Broker/Connect", &cq);
  call->StartCall(reinterpret_cast<void*>(1));
  cq.Next(&tag, &ok);
  for (const std::string& bytes : frames) {
    grpc::Slice slice(bytes.data(), bytes.size());
    grpc::ByteBuffer buffer(&slice, 1);
    call->Write(buffer, reinterpret_cast<void*>(2));
    if (!cq.Next(&tag, &ok) || !ok) break;
  }
  call->WritesDone(reinterpret_cast<void*>(3));
  cq.Next(&tag, &ok);
  for (;;) {
    grpc::ByteBuffer response;
    call->Read(&response, reinterpret_cast<void*>(4));
    if (!cq.Next(&tag, &ok) || !ok) break;
    std::vector<grpc::Slice> slices;
    (void)response.Dump(&slices);
    std::string bytes;
    for (const grpc::Slice& piece : slices) {
      bytes.append(reinterpret_cast<const char*>(piece.begin()), piece.size());
    }
    v1::BrokerFrame frame;
    if (frame.ParseFromString(bytes)) out.frames.push_back(std::move(frame));
  }
  call->Finish(&out.status, reinterpret_cast<void*>(5));
  cq.Next(&tag, &ok);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return out;
}

TEST(BrokerHardeningTest, AFrameThatDoesNotDecodeGetsAnErrorAndInvalidArgument) {
  TestBroker broker;
  v1::AgentFrame reg;
  reg.set_seq(1);
  reg.mutable_register_()->set_agent_id("alice");
  v1::AgentFrame not_utf8;  // a string field that is not UTF-8 (protobuf logs it, sends it)
  not_utf8.mutable_register_()->set_agent_id("\xff\xfe\xfd");
  for (const std::string& garbage : {std::string(64, '\xff'), not_utf8.SerializeAsString()}) {
    SCOPED_TRACE(garbage.size());
    RawOutcome r = RawConnect(broker.Channel(), {reg.SerializeAsString(), garbage});
    ASSERT_EQ(r.frames.size(), 2u);
    EXPECT_TRUE(r.frames[0].has_registered());
    ASSERT_TRUE(r.frames[1].has_error());
    EXPECT_EQ(r.frames[1].error().reason(), v1::INVALID_ARGUMENT);
    EXPECT_NE(r.frames[1].error().detail().find("did not decode as latentbus.v1.AgentFrame"),
              std::string::npos)
        << r.frames[1].error().detail();
    EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << r.status.error_message();
  }
  // Publish: INVALID_ARGUMENT with the reason, not UNIMPLEMENTED with nothing.
  grpc::GenericStub stub(broker.Channel());
  grpc::ClientContext ctx;
  grpc::Slice slice(std::string(64, '\xff'));
  grpc::ByteBuffer request(&slice, 1), response;
  absl::Notification done;
  grpc::Status status;
  stub.UnaryCall(&ctx, "/latentbus.v1.Broker/Publish", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) {
                   status = s;
                   done.Notify();
                 });
  done.WaitForNotification();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("did not decode as latentbus.v1.PublishRequest"),
            std::string::npos)
      << status.error_message();
}

TEST(BrokerHardeningTest, AgentIdsCannotForgeOrFloodLogLines) {
  LogCapture capture;
  {
    TestBroker broker;
    // A newline in the id once wrote a whole forged line.
    TestAgent forger(broker.Channel());
    EXPECT_FALSE(
        forger.Register("x\n[info] agent registered agent_id=root principal=admin", kSpec).ok());
    EXPECT_EQ(forger.AwaitEnd().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    // Twenty 1 MiB ids once wrote 20 MiB of log.
    for (int i = 0; i < 20; ++i) {
      TestAgent flooder(broker.Channel());
      EXPECT_FALSE(flooder.Register(std::string(1 << 20, 'a' + i % 26), kSpec).ok());
    }
  }
  const std::string log = capture.text();
  EXPECT_LT(log.size(), 64u << 10) << "log grew to " << log.size() << " bytes";
  std::istringstream lines(log);
  std::string line;
  int refused = 0;
  while (std::getline(lines, line)) {
    // Every line is one of ours: it starts with spdlog's timestamp.
    EXPECT_EQ(line.rfind("[20", 0), 0u) << "forged or broken line: " << line.substr(0, 200);
    if (line.find("stream refused") != std::string::npos) ++refused;
  }
  EXPECT_EQ(refused, 21);
  EXPECT_NE(log.find("agent_id=''"), std::string::npos);  // never kept: logged empty
  EXPECT_NE(log.find("\\n[info] agent registered"), std::string::npos)
      << "the id is quoted escaped in the error";
}

// One line per ended stream says why it ended, so a client that keeps coming back can be
// told apart from one that left.
TEST(BrokerHardeningTest, TheLogSaysWhyEachStreamEnded) {
  LogCapture capture;
  {
    broker::BrokerConfig config = TestConfig();
    config.limits.max_message_bytes = 4096;
    TestBroker broker(config);
    TestAgent leaver(broker.Channel());
    ASSERT_TRUE(leaver.Register("leaver", kSpec).ok());
    leaver.CloseWrites();
    EXPECT_TRUE(leaver.AwaitEnd().ok());
    TestAgent flooder(broker.Channel());
    ASSERT_TRUE(flooder.Register("flooder", kSpec).ok());
    flooder.Send(ToAgent("big", "leaver", std::string(1 << 20, 'x')));
    EXPECT_EQ(flooder.AwaitEnd().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    TestAgent first(broker.Channel()), second(broker.Channel());
    ASSERT_TRUE(first.Register("twin", kSpec).ok());
    ASSERT_TRUE(second.Register("twin", kSpec).ok());
    first.AwaitEnd();
  }
  const std::string log = capture.text();
  // Every disconnect line of `id`, joined (the twin has two, in either order: the broker's
  // shutdown may end the newer stream before the replaced one's line is written).
  auto line_of = [&](const std::string& id) {
    std::string lines;
    const std::string key = "agent disconnected agent_id=" + id + " ";
    for (size_t at = log.find(key); at != std::string::npos; at = log.find(key, at + 1)) {
      lines += log.substr(at, log.find('\n', at) - at) + "\n";
    }
    return lines;
  };
  EXPECT_NE(line_of("leaver").find("ended='closed by the agent'"), std::string::npos)
      << line_of("leaver") << "\n"
      << log;
  EXPECT_NE(line_of("flooder").find("ended='cancelled"), std::string::npos)
      << line_of("flooder") << "\n"
      << log;
  EXPECT_NE(line_of("twin").find("replaced=true ended='replaced by a newer stream"),
            std::string::npos)
      << log;
}

}  // namespace
}  // namespace latentbus::testing
