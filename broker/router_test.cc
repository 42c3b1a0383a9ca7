#include "broker/router.h"

#include <gtest/gtest.h>

#include "broker/router_test_bus.h"

namespace latentbus::broker {
namespace {

using namespace test_bus;  // NOLINT(build/namespaces): the fixture's names, as before

TEST(RouterTest, TextToAnAgentIsQueuedForItWithTheSenderFilledIn) {
  Bus bus;
  auto a = bus.Connect("a", kSrc);
  auto b = bus.Connect("b", kDst);
  v1::Envelope e = ToAgent("m1", "b", "hello");
  e.set_sender_id("mallory");  // the router trusts the stream's id, not the envelope
  SendOutcome out = bus.Send("a", e);
  ASSERT_TRUE(out.refused.ok()) << out.refused;
  EXPECT_EQ(out.message_id, "m1");
  ASSERT_EQ(out.accepted.size(), 1u);
  EXPECT_EQ(out.accepted[0].agent_id(), "b");
  EXPECT_EQ(out.accepted[0].form(), v1::PAYLOAD_FORM_TEXT);
  EXPECT_EQ(out.accepted[0].reason(), "no_latent");
  EXPECT_TRUE(out.errors.empty());

  std::vector<v1::Envelope> got = b->Delivered();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].sender_id(), "a");
  EXPECT_EQ(got[0].message_id(), "m1");
  EXPECT_EQ(got[0].text(), "hello");
  EXPECT_EQ(got[0].delivered_form(), v1::PAYLOAD_FORM_TEXT);
  EXPECT_EQ(got[0].delivery_attempt(), 1u);
  EXPECT_TRUE(a->frames().empty());
}

TEST(RouterTest, TopicMessagesReachEverySubscriberButTheSender) {
  Bus bus;
  auto a = bus.Connect("a", kSrc, {"news"});
  auto c = bus.Connect("c", kDst, {"news"});
  auto b = bus.Connect("b", kDst, {"news", "sports"});
  auto d = bus.Connect("d", kDst, {"sports"});
  SendOutcome out = bus.Send("a", ToTopic("m1", "news", "headline"));
  ASSERT_TRUE(out.refused.ok()) << out.refused;
  EXPECT_EQ(AgentsOf(out.accepted), (Strings{"b", "c"}));
  EXPECT_EQ(b->Delivered().size(), 1u);
  EXPECT_EQ(c->Delivered().size(), 1u);
  EXPECT_TRUE(a->frames().empty());
  EXPECT_TRUE(d->frames().empty());
  EXPECT_EQ(bus.metrics().CounterValue("latentbus_messages_total",
                                       {{"class", "context"}, {"encoding", "text"}}),
            1);
}

TEST(RouterTest, UnknownAgentAndTopicWithoutOtherSubscribersAreNoRoute) {
  Bus bus;
  auto a = bus.Connect("a", kSrc, {"lonely"});
  SendOutcome out = bus.Send("a", ToAgent("m1", "ghost", "boo"));
  EXPECT_EQ(ReasonOf(out.refused), v1::NO_ROUTE);
  EXPECT_TRUE(out.accepted.empty());
  EXPECT_EQ(ReasonOf(bus.Send("a", ToTopic("m2", "lonely", "echo")).refused), v1::NO_ROUTE);
  EXPECT_EQ(ReasonOf(bus.Send("a", ToTopic("m3", "nobody", "hi")).refused), v1::NO_ROUTE);
  EXPECT_EQ(bus.metrics().CounterValue("latentbus_rejects_total", {{"reason", "NO_ROUTE"}}), 3);
  EXPECT_TRUE(a->frames().empty());
}

// Request/reply among four agents; each test makes its own requests.
class RouterReplyTest : public ::testing::Test {
 protected:
  Bus bus_;
  std::shared_ptr<StreamRecorder> a_ = bus_.Connect("a", kSrc);
  std::shared_ptr<StreamRecorder> b_ = bus_.Connect("b", kDst, {"t"});
  std::shared_ptr<StreamRecorder> c_ = bus_.Connect("c", kSrc);
  std::shared_ptr<StreamRecorder> d_ = bus_.Connect("d", kDst, {"t"});
};

TEST_F(RouterReplyTest, RepliesAreAcceptedOnlyFromTheAgentsTheRequestWentTo) {
  ASSERT_TRUE(bus_.Send("a", Request(ToAgent("q1", "b", "question"))).refused.ok());

  // c was not asked: naming the requester is refused, omitting it finds nothing.
  EXPECT_EQ(ReasonOf(bus_.Send("c", Reply("r0", "q1", "a")).refused), v1::PERMISSION_DENIED);
  EXPECT_EQ(ReasonOf(bus_.Send("c", Reply("r1", "q1", "")).refused), v1::NO_ROUTE);

  SendOutcome out = bus_.Send("b", Reply("r2", "q1", ""));
  ASSERT_TRUE(out.refused.ok()) << out.refused;
  EXPECT_EQ(AgentsOf(out.accepted), Strings{"a"});
  std::vector<v1::Envelope> got = a_->Delivered();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].recipient().agent_id(), "a");
  EXPECT_EQ(got[0].correlation_id(), "q1");
  EXPECT_EQ(got[0].sender_id(), "b");
  // The request is answered: a second reply has nothing to go to.
  EXPECT_EQ(ReasonOf(bus_.Send("b", Reply("r3", "q1", "")).refused), v1::NO_ROUTE);
  EXPECT_TRUE(c_->Delivered().empty());
}

TEST_F(RouterReplyTest, PendingRequestsAreKeyedByRequesterAndMessageId) {
  // Message ids are scoped to their sender: a and c both ask b with id "q".
  ASSERT_TRUE(bus_.Send("a", Request(ToAgent("q", "b", "from a"))).refused.ok());
  ASSERT_TRUE(bus_.Send("c", Request(ToAgent("q", "b", "from c"))).refused.ok());
  EXPECT_EQ(ReasonOf(bus_.Send("b", Reply("r1", "q", "")).refused), v1::INVALID_ARGUMENT);

  SendOutcome to_c = bus_.Send("b", Reply("r2", "q", "c"));
  ASSERT_TRUE(to_c.refused.ok()) << to_c.refused;
  EXPECT_EQ(AgentsOf(to_c.accepted), Strings{"c"});
  // c's request is answered; the only one left is a's.
  SendOutcome to_a = bus_.Send("b", Reply("r3", "q", ""));
  ASSERT_TRUE(to_a.refused.ok()) << to_a.refused;
  EXPECT_EQ(AgentsOf(to_a.accepted), Strings{"a"});
  EXPECT_EQ(a_->Delivered().size(), 1u);
  EXPECT_EQ(c_->Delivered().size(), 1u);
}

TEST_F(RouterReplyTest, AReplyWithoutRecipientFindsTheRequestSentToTheReplier) {
  ASSERT_TRUE(bus_.Send("a", Request(ToAgent("q", "b", "to b"))).refused.ok());
  ASSERT_TRUE(bus_.Send("c", Request(ToAgent("q", "d", "to d"))).refused.ok());
  EXPECT_EQ(AgentsOf(bus_.Send("d", Reply("r1", "q", "")).accepted), Strings{"c"});
  EXPECT_EQ(AgentsOf(bus_.Send("b", Reply("r2", "q", "")).accepted), Strings{"a"});
}

TEST_F(RouterReplyTest, ARequestToATopicIsAnsweredOnceByASubscriberItReached) {
  ASSERT_TRUE(bus_.Send("a", Request(ToTopic("q", "t", "anyone?"))).refused.ok());
  EXPECT_EQ(ReasonOf(bus_.Send("c", Reply("r0", "q", "a")).refused), v1::PERMISSION_DENIED);
  EXPECT_EQ(AgentsOf(bus_.Send("d", Reply("r1", "q", "")).accepted), Strings{"a"});
  // Answered: b, reached too, has no pending request left to answer.
  EXPECT_EQ(ReasonOf(bus_.Send("b", Reply("r2", "q", "")).refused), v1::NO_ROUTE);
  EXPECT_EQ(a_->Delivered().size(), 1u);
}

TEST(RouterTest, RateLimitIsPerAgentWithoutAuthAndPerTokenWithIt) {
  LimitsConfig limits;
  limits.rate_per_second = 1e-6;  // no refill within a test
  limits.rate_burst = 2;
  Bus bus(limits);
  auto a = bus.Connect("a", kSrc);
  auto b = bus.Connect("b", kDst);
  auto x = bus.Connect("x", kSrc);
  auto y = bus.Connect("y", kSrc);
  EXPECT_TRUE(bus.Send("a", ToAgent("m1", "b", "1")).refused.ok());
  EXPECT_TRUE(bus.Send("a", ToAgent("m2", "b", "2")).refused.ok());
  EXPECT_EQ(ReasonOf(bus.Send("a", ToAgent("m3", "b", "3")).refused), v1::RATE_LIMITED);
  EXPECT_TRUE(bus.Send("b", ToAgent("m1", "a", "b has its own bucket")).refused.ok());
  EXPECT_EQ(bus.delivery().Pending("b"), 2u);  // the refused one was not queued

  // With tokens, the bucket is the token's: x and y share it.
  auto token = std::make_shared<Principal>();
  token->name = "workers";
  token->send_to = {"*"};
  EXPECT_TRUE(bus.Send("x", ToAgent("m1", "b", "1"), token).refused.ok());
  EXPECT_TRUE(bus.Send("y", ToAgent("m1", "b", "2"), token).refused.ok());
  EXPECT_EQ(ReasonOf(bus.Send("y", ToAgent("m2", "b", "3"), token).refused), v1::RATE_LIMITED);
  EXPECT_EQ(ReasonOf(bus.Send("x", ToAgent("m2", "b", "4"), token).refused), v1::RATE_LIMITED);
}

TEST(RouterTest, SendToAclGuardsDirectMessagesButNotRepliesToRequests) {
  Bus bus;
  auto boss = bus.Connect("boss", kSrc);
  auto w1 = bus.Connect("worker-1", kDst);
  auto w2 = bus.Connect("worker-2", kDst);
  auto workers = std::make_shared<Principal>();
  workers->name = "workers";
  workers->send_to = {"worker-*"};
  workers->publish = {"tasks.*"};
  SendOutcome denied = bus.Send("worker-1", ToAgent("m1", "boss", "hey boss"), workers);
  EXPECT_EQ(ReasonOf(denied.refused), v1::PERMISSION_DENIED);
  EXPECT_TRUE(boss->frames().empty());
  EXPECT_TRUE(bus.Send("worker-1", ToAgent("m2", "worker-2", "hey"), workers).refused.ok());
  EXPECT_EQ(ReasonOf(bus.Send("worker-1", ToTopic("m3", "results", "x"), workers).refused),
            v1::PERMISSION_DENIED);

  // The boss asks worker-1: worker-1 may answer, naming the boss or not.
  ASSERT_TRUE(bus.Send("boss", Request(ToAgent("job", "worker-1", "do it"))).refused.ok());
  SendOutcome reply = bus.Send("worker-1", Reply("done", "job", "boss"), workers);
  ASSERT_TRUE(reply.refused.ok()) << reply.refused;
  EXPECT_EQ(AgentsOf(reply.accepted), Strings{"boss"});
  EXPECT_EQ(boss->Delivered().size(), 1u);
  // Answered: the ACL applies again.
  EXPECT_EQ(ReasonOf(bus.Send("worker-1", Reply("again", "job", "boss"), workers).refused),
            v1::PERMISSION_DENIED);
}

TEST(RouterTest, ATrustedBridgeCarriesTheLatentTranslated) {
  Bus bus;
  bus.AddBridge(kSrc, kDst, 0.95);
  auto a = bus.Connect("a", kSrc);
  auto b = bus.Connect("b", kDst);
  codec::Tensor sent;
  v1::Envelope e = WithLatent(ToAgent("m1", "b", "the same as text"), kSrc, 3, &sent);
  SendOutcome out = bus.Send("a", e);
  ASSERT_TRUE(out.refused.ok()) << out.refused;
  ASSERT_EQ(out.accepted.size(), 1u);
  EXPECT_EQ(out.accepted[0].form(), v1::PAYLOAD_FORM_LATENT);
  EXPECT_EQ(out.accepted[0].reason(), "");

  std::vector<v1::Envelope> got = b->Delivered();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].delivered_form(), v1::PAYLOAD_FORM_LATENT);
  EXPECT_EQ(got[0].text(), "");  // one form per recipient
  absl::StatusOr<codec::Packet> packet = codec::FromProto(got[0].latent());
  ASSERT_TRUE(packet.ok()) << packet.status();
  EXPECT_EQ(packet->model_id, "dst");
  EXPECT_EQ(packet->model_fingerprint, "fp-dst");
  EXPECT_EQ(packet->space, codec::Space::kInputEmbedding);
  ASSERT_EQ(packet->shape, (std::vector<uint32_t>{3, 4}));
  absl::StatusOr<codec::Tensor> values = codec::Decode(*packet);
  ASSERT_TRUE(values.ok()) << values.status();
  for (uint32_t r = 0; r < 3; ++r) {
    for (uint32_t j = 0; j < 4; ++j) {
      EXPECT_EQ(values->data[r * 4 + j], -sent.data[r * 8 + j]) << r << "," << j;
    }
  }
  EXPECT_EQ(bus.metrics().CounterValue("latentbus_messages_total",
                                       {{"class", "context"}, {"encoding", "fp32"}}),
            1);
}

TEST(RouterTest, ThePolicySendsTextForReasoningAndThroughWeakBridges) {
  Bus bus;
  bus.AddBridge(kSrc, kDst, 0.95);
  bus.AddBridge(kSrc, kWeak, 0.5);
  auto a = bus.Connect("a", kSrc);
  auto b = bus.Connect("b", kDst, {"t"});
  auto w = bus.Connect("w", kWeak, {"t"});
  v1::Envelope e = WithLatent(ToTopic("m1", "t", "words"));
  SendOutcome out = bus.Send("a", e);
  ASSERT_TRUE(out.refused.ok()) << out.refused;
  ASSERT_EQ(AgentsOf(out.accepted), (Strings{"b", "w"}));
  EXPECT_EQ(out.accepted[0].form(), v1::PAYLOAD_FORM_LATENT);
  EXPECT_EQ(out.accepted[1].form(), v1::PAYLOAD_FORM_TEXT);
  EXPECT_EQ(out.accepted[1].reason(), "fidelity_below_threshold");
  std::vector<v1::Envelope> to_w = w->Delivered();
  ASSERT_EQ(to_w.size(), 1u);
  EXPECT_EQ(to_w[0].text(), "words");
  EXPECT_FALSE(to_w[0].has_latent());
  EXPECT_EQ(bus.metrics().CounterValue("latentbus_fallbacks_total",
                                       {{"reason", "fidelity_below_threshold"}}),
            1);

  e.set_message_id("m2");
  e.set_message_class(v1::MESSAGE_CLASS_REASONING);  // the default policy: text
  out = bus.Send("a", e);
  ASSERT_TRUE(out.refused.ok()) << out.refused;
  for (const v1::RecipientOutcome& o : out.accepted) {
    EXPECT_EQ(o.form(), v1::PAYLOAD_FORM_TEXT) << o.agent_id();
    EXPECT_EQ(o.reason(), "policy:reasoning") << o.agent_id();
  }
  ASSERT_EQ(b->Delivered().size(), 2u);
  EXPECT_EQ(b->Delivered()[1].delivered_form(), v1::PAYLOAD_FORM_TEXT);
}

// Topic "t": b can take src's latents (a trusted bridge), n has no bridge from src, r
// registered without a model (text only).
class RouterMixedTopicTest : public ::testing::Test {
 protected:
  RouterMixedTopicTest() { bus_.AddBridge(kSrc, kDst, 0.95); }
  Bus bus_;
  std::shared_ptr<StreamRecorder> a_ = bus_.Connect("a", kSrc);
  std::shared_ptr<StreamRecorder> b_ = bus_.Connect("b", kDst, {"t"});
  std::shared_ptr<StreamRecorder> n_ = bus_.Connect("n", kOther, {"t"});
  std::shared_ptr<StreamRecorder> r_ = bus_.Connect("r", kTextOnly, {"t"});
};

TEST_F(RouterMixedTopicTest, ALatentWithoutTextIsRefusedWhenARecipientNeedsText) {
  v1::Envelope e = WithLatent(ToTopic("m1", "t", ""));
  SendOutcome out = bus_.Send("a", e);
  EXPECT_EQ(ReasonOf(out.refused), v1::NEEDS_TEXT);
  EXPECT_EQ(out.refused_agents, (Strings{"n", "r"}));
  EXPECT_NE(out.refused.message().find("n, r"), std::string::npos) << out.refused;
  EXPECT_TRUE(out.accepted.empty());
  // Nothing went anywhere, not even to b, which could have taken the latent.
  EXPECT_EQ(bus_.delivery().Pending("b"), 0u);
  EXPECT_TRUE(b_->frames().empty());

  v1::Envelope direct = ToAgent("m2", "n", "");
  *direct.mutable_latent() = e.latent();
  out = bus_.Send("a", direct);
  EXPECT_EQ(ReasonOf(out.refused), v1::NEEDS_TEXT);
  EXPECT_EQ(out.refused_agents, Strings{"n"});
  // The SDK resends with text and the same message id.
  direct.set_text("in words");
  out = bus_.Send("a", direct);
  ASSERT_TRUE(out.refused.ok()) << out.refused;
  EXPECT_EQ(out.accepted.at(0).reason(), "no_bridge");
  EXPECT_EQ(n_->Delivered().size(), 1u);
}

TEST_F(RouterMixedTopicTest, QueryReportsEachRecipientsFormWithoutSending) {
  v1::RouteQueryRequest request;
  request.set_sender_id("a");
  request.mutable_recipient()->set_topic("t");
  request.set_message_class(v1::MESSAGE_CLASS_CONTEXT);
  request.set_has_latent(true);
  v1::RouteQueryResponse response = bus_.router().Query(request, *Anonymous());
  ASSERT_EQ(response.decisions_size(), 3);
  EXPECT_EQ(response.decisions(0).agent_id(), "b");
  EXPECT_EQ(response.decisions(0).form(), v1::PAYLOAD_FORM_LATENT);
  EXPECT_EQ(response.decisions(0).bridge_id(), "src>dst");
  EXPECT_DOUBLE_EQ(response.decisions(0).fidelity(), 0.95);
  EXPECT_EQ(response.decisions(1).agent_id(), "n");
  EXPECT_EQ(response.decisions(1).reason(), "no_bridge");
  EXPECT_EQ(response.decisions(2).reason(), "receiver_text_only");
  EXPECT_EQ(response.error().reason(), v1::NEEDS_TEXT);
  EXPECT_EQ(Strings(response.error().agent_ids().begin(), response.error().agent_ids().end()),
            (Strings{"n", "r"}));

  request.set_has_text(true);
  EXPECT_EQ(bus_.router().Query(request, *Anonymous()).error().reason(),
            v1::ERROR_REASON_UNSPECIFIED);
  request.mutable_recipient()->set_agent_id("ghost");
  EXPECT_EQ(bus_.router().Query(request, *Anonymous()).error().reason(), v1::NO_ROUTE);
  for (const char* id : {"b", "n", "r"}) EXPECT_EQ(bus_.delivery().Pending(id), 0u) << id;
}

TEST(RouterTest, LatentsAreCheckedAgainstTheSendersRegistration) {
  Bus bus;
  bus.AddBridge(kSrc, kDst, 0.95);
  auto b = bus.Connect("b", kDst);
  auto t = bus.Connect("t", kTextOnly);
  auto a = bus.Connect("a", kSrc);
  v1::Envelope e = WithLatent(ToAgent("m1", "b", "text too"));
  EXPECT_EQ(ReasonOf(bus.Send("t", e).refused), v1::UNKNOWN_MODEL);         // text-only agent
  EXPECT_EQ(ReasonOf(bus.Send("stranger", e).refused), v1::UNKNOWN_MODEL);  // not registered
  // Another model's packet.
  EXPECT_EQ(ReasonOf(bus.Send("a", WithLatent(e, kDst)).refused), v1::INVALID_PACKET);
  EXPECT_EQ(bus.delivery().Pending("b"), 0u);
}

// Subscribers that share the receiving model and encoding share one translation (and one
// envelope); another model or another encoding is a translation of its own.
TEST(RouterTest, RecipientsOfOneModelAndEncodingShareATranslation) {
  Bus bus;
  bus.AddBridge(kSrc, kDst, 0.95);
  bus.AddBridge(kSrc, kOther, 0.95);
  v1::ModelSpec dst_int8 = kDst;
  dst_int8.mutable_preferred_encoding()->set_dtype(v1::DTYPE_INT8);
  dst_int8.mutable_preferred_encoding()->set_group_size(32);
  auto a = bus.Connect("a", kSrc);
  auto b1 = bus.Connect("b1", kDst, {"t"});
  auto b2 = bus.Connect("b2", kDst, {"t"});
  auto b3 = bus.Connect("b3", kDst, {"t"});
  auto b8 = bus.Connect("b8", dst_int8, {"t"});
  auto o = bus.Connect("o", kOther, {"t"});
  SendOutcome out = bus.Send("a", WithLatent(ToTopic("m1", "t", "text"), kSrc, 3));
  ASSERT_TRUE(out.refused.ok()) << out.refused;
  EXPECT_EQ(AgentsOf(out.accepted), (Strings{"b1", "b2", "b3", "b8", "o"}));
  for (const v1::RecipientOutcome& r : out.accepted) {
    EXPECT_EQ(r.form(), v1::PAYLOAD_FORM_LATENT) << r.agent_id();
  }
  EXPECT_EQ(bus.metrics().CounterValue("latentbus_translations_total", {{"result", "ok"}}), 3);

  std::string dst_bytes;
  for (auto* b : {b1.get(), b2.get(), b3.get()}) {
    std::vector<v1::Envelope> got = b->Delivered();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].latent().model_id(), "dst");
    EXPECT_EQ(got[0].latent().encoding().dtype(), v1::DTYPE_FP32);
    if (dst_bytes.empty()) dst_bytes = got[0].latent().SerializeAsString();
    EXPECT_EQ(got[0].latent().SerializeAsString(), dst_bytes);
  }
  std::vector<v1::Envelope> got8 = b8->Delivered();
  ASSERT_EQ(got8.size(), 1u);
  EXPECT_EQ(got8[0].latent().model_id(), "dst");
  EXPECT_EQ(got8[0].latent().encoding().dtype(), v1::DTYPE_INT8);
  std::vector<v1::Envelope> got_other = o->Delivered();
  ASSERT_EQ(got_other.size(), 1u);
  EXPECT_EQ(got_other[0].latent().model_id(), "other");
}

TEST(RouterTest, AFailedTranslationIsAnErrorForThatRecipientOnly) {
  Bus bus;
  bus.AddBridge(kSrc, kDst, 0.95, /*broken=*/true);
  auto a = bus.Connect("a", kSrc);
  auto b = bus.Connect("b", kDst, {"t"});
  auto r = bus.Connect("r", kTextOnly, {"t"});
  SendOutcome out = bus.Send("a", WithLatent(ToTopic("m1", "t", "text")));
  ASSERT_TRUE(out.refused.ok()) << out.refused;
  EXPECT_EQ(AgentsOf(out.accepted), Strings{"r"});
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_EQ(out.errors[0].reason(), v1::INTERNAL);
  EXPECT_EQ(out.errors[0].message_id(), "m1");
  EXPECT_EQ(Strings(out.errors[0].agent_ids().begin(), out.errors[0].agent_ids().end()),
            Strings{"b"});
  EXPECT_NE(out.errors[0].detail().find("the bridge broke"), std::string::npos);
  EXPECT_TRUE(b->frames().empty());
  EXPECT_EQ(r->Delivered().size(), 1u);
}

TEST(RouterTest, ADuplicateIsAcceptedButQueuedOnce) {
  Bus bus;
  auto a = bus.Connect("a", kSrc);
  auto b = bus.Connect("b", kDst, {}, /*credits=*/0);
  ASSERT_TRUE(bus.Send("a", ToAgent("m1", "b", "once")).refused.ok());
  SendOutcome again = bus.Send("a", ToAgent("m1", "b", "once"));
  ASSERT_TRUE(again.refused.ok()) << again.refused;
  EXPECT_EQ(AgentsOf(again.accepted), Strings{"b"});
  EXPECT_EQ(bus.delivery().Pending("b"), 1u);
  EXPECT_EQ(bus.metrics().CounterValue("latentbus_duplicates_total"), 1);
}

TEST(RouterTest, AFullQueueFailsOnlyThatRecipient) {
  LimitsConfig limits;
  limits.max_queue_depth = 1;
  Bus bus(limits);
  auto a = bus.Connect("a", kSrc);
  auto b = bus.Connect("b", kDst, {"t"}, /*credits=*/0);
  auto c = bus.Connect("c", kDst, {"t"}, /*credits=*/0);
  ASSERT_TRUE(bus.Send("a", ToAgent("m1", "b", "fills b")).refused.ok());
  SendOutcome out = bus.Send("a", ToTopic("m2", "t", "to both"));
  ASSERT_TRUE(out.refused.ok()) << out.refused;
  EXPECT_EQ(AgentsOf(out.accepted), Strings{"c"});
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_EQ(out.errors[0].reason(), v1::QUEUE_FULL);
  ASSERT_EQ(out.errors[0].agent_ids_size(), 1);
  EXPECT_EQ(out.errors[0].agent_ids(0), "b");
  EXPECT_EQ(bus.delivery().Pending("b"), 1u);
  EXPECT_EQ(bus.delivery().Pending("c"), 1u);
}

TEST(RouterTest, InvalidEnvelopesAndDrainingAreRefused) {
  Bus bus;
  auto a = bus.Connect("a", kSrc);
  auto b = bus.Connect("b", kDst);
  EXPECT_EQ(ReasonOf(bus.Send("a", ToAgent("m1", "b", "")).refused), v1::INVALID_ARGUMENT);
  EXPECT_EQ(ReasonOf(bus.Send("a", ToAgent("", "b", "no id")).refused), v1::INVALID_ARGUMENT);
  v1::Envelope late = ToAgent("m2", "b", "too late");
  *late.mutable_deadline() = At(absl::Now() - absl::Seconds(1));
  EXPECT_EQ(ReasonOf(bus.Send("a", late).refused), v1::DEADLINE_EXCEEDED);

  bus.router().SetDraining();
  EXPECT_TRUE(bus.router().draining());
  SendOutcome out = bus.Send("a", ToAgent("m3", "b", "bye"));
  EXPECT_EQ(ReasonOf(out.refused), v1::DRAINING);
  EXPECT_EQ(out.message_id, "m3");
  EXPECT_EQ(bus.delivery().Pending("b"), 0u);
}

TEST(RouterTest, AMessageUndeliveredAtItsDeadlineIsDroppedAndTheSenderTold) {
  Bus bus;
  auto a = bus.Connect("a", kSrc);
  auto b = bus.Connect("b", kDst, {}, /*credits=*/0);  // never takes it
  v1::Envelope e = ToAgent("m1", "b", "soon stale");
  const absl::Time deadline = absl::Now() + absl::Milliseconds(200);
  *e.mutable_deadline() = At(deadline);
  ASSERT_TRUE(bus.Send("a", e).refused.ok());
  ASSERT_TRUE(a->AwaitFrames(1));
  std::vector<v1::BrokerFrame> frames = a->frames();
  ASSERT_TRUE(frames[0].has_error());
  EXPECT_EQ(frames[0].error().reason(), v1::DEADLINE_EXCEEDED);
  EXPECT_EQ(frames[0].error().message_id(), "m1");
  ASSERT_EQ(frames[0].error().agent_ids_size(), 1);
  EXPECT_EQ(frames[0].error().agent_ids(0), "b");
  EXPECT_EQ(bus.delivery().Pending("b"), 0u);
}

TEST(RouterTest, AnUnansweredRequestGetsADeadlineErrorAndAnAnsweredOneDoesNot) {
  Bus bus;
  auto a = bus.Connect("a", kSrc);
  auto b = bus.Connect("b", kDst);
  // Room for the reply to come first; the test then waits for the timer to pass it.
  const absl::Time deadline = absl::Now() + absl::Seconds(1);
  for (const char* id : {"answered", "ignored"}) {
    v1::Envelope e = Request(ToAgent(id, "b", "question"));
    *e.mutable_deadline() = At(deadline);
    ASSERT_TRUE(bus.Send("a", e).refused.ok());
  }
  ASSERT_TRUE(bus.Send("b", Reply("r1", "answered", "")).refused.ok());
  bus.RunTimerPast(deadline + absl::Milliseconds(1));
  std::vector<v1::BrokerFrame> frames = a->frames();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].deliver().envelope().correlation_id(), "answered");
  ASSERT_TRUE(frames[1].has_error());
  EXPECT_EQ(frames[1].error().reason(), v1::DEADLINE_EXCEEDED);
  EXPECT_EQ(frames[1].error().message_id(), "ignored");
  EXPECT_EQ(frames[1].error().agent_ids_size(), 0);  // it was delivered; the reply is missing
  // Its pending state is gone with the deadline: a late reply has nothing to answer.
  EXPECT_EQ(ReasonOf(bus.Send("b", Reply("r2", "ignored", "")).refused), v1::NO_ROUTE);
}

// Requests without a deadline get the broker's longest (max_deadline_seconds, an hour by
// default); answered ones must not hold timer state until then, or a steady load grows
// the broker's memory for an hour. Topic requests keep theirs: other copies may still
// wait in queues.
TEST(RouterTest, AnsweredRequestsLeaveNoDeadlineBehind) {
  Bus bus;
  auto a = bus.Connect("a", kSrc, {}, /*credits=*/1000);
  auto b = bus.Connect("b", kDst, {"questions"}, /*credits=*/1000);
  auto c = bus.Connect("c", kDst, {"questions"}, /*credits=*/1000);
  for (int i = 0; i < 200; ++i) {
    const std::string id = "q" + std::to_string(i);
    ASSERT_TRUE(bus.Send("a", Request(ToAgent(id, "b", "question"))).refused.ok());
    ASSERT_TRUE(bus.Send("b", Reply("r" + std::to_string(i), id, "")).refused.ok());
  }
  EXPECT_EQ(bus.timers_pending(), 0u);
  ASSERT_TRUE(bus.Send("a", Request(ToAgent("open", "b", "question"))).refused.ok());
  EXPECT_EQ(bus.timers_pending(), 1u);  // unanswered: its deadline stays
  ASSERT_TRUE(bus.Send("a", Request(ToTopic("all", "questions", "question"))).refused.ok());
  ASSERT_TRUE(bus.Send("b", Reply("rb", "all", "")).refused.ok());
  EXPECT_EQ(bus.timers_pending(), 2u);  // c's copy may still be queued
}

// A translation can make a latent much larger (a wider receiver, a wider encoding); one
// over the message limit is refused for that recipient, and the others still get theirs.
TEST(RouterTest, ATranslationOverTheMessageLimitIsRefusedForThatRecipient) {
  LimitsConfig limits;
  limits.max_message_bytes = 2048;  // the src latent fits; 2 rows x 512 fp32 do not
  Bus bus(limits);
  bus.AddBridge(kSrc, kDst, 0.99);
  bus.AddBridge(kSrc, kWide, 0.99);
  auto a = bus.Connect("a", kSrc);
  auto d = bus.Connect("d", kDst, {"t"});
  auto w = bus.Connect("w", kWide, {"t"});
  SendOutcome out = bus.Send("a", WithLatent(ToTopic("m", "t", "")));
  ASSERT_TRUE(out.refused.ok()) << out.refused;
  EXPECT_EQ(AgentsOf(out.accepted), Strings{"d"});
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_EQ(out.errors[0].reason(), v1::MESSAGE_TOO_LARGE);
  ASSERT_EQ(out.errors[0].agent_ids_size(), 1);
  EXPECT_EQ(out.errors[0].agent_ids(0), "w");
  EXPECT_NE(out.errors[0].detail().find("over the 2048-byte limit"), std::string::npos)
      << out.errors[0].detail();
  EXPECT_EQ(d->Delivered().size(), 1u);
  EXPECT_EQ(bus.delivery().Pending("w"), 0u);
}

// An SDK writes unanswered requests again after a reconnect: the resend replaces the
// pending request and its deadline, which the answer then cancels.
TEST(RouterTest, AResentRequestReplacesItsDeadline) {
  Bus bus;
  auto a = bus.Connect("a", kSrc);
  auto b = bus.Connect("b", kDst);
  ASSERT_TRUE(bus.Send("a", Request(ToAgent("q", "b", "question"))).refused.ok());
  ASSERT_TRUE(bus.Send("a", Request(ToAgent("q", "b", "question"))).refused.ok());
  EXPECT_EQ(bus.timers_pending(), 1u);
  ASSERT_TRUE(bus.Send("b", Reply("r", "q", "")).refused.ok());
  EXPECT_EQ(bus.timers_pending(), 0u);
}

// A reply that could not be queued for the requester does not retire the request: the
// responder can resend it and it is still the reply (not an ordinary message, which a
// reply without a recipient cannot be).
TEST(RouterTest, AReplyRefusedForAFullQueueCanBeResent) {
  LimitsConfig limits;
  limits.max_queue_depth = 1;
  Bus bus(limits);
  auto a = bus.Connect("a", kSrc, {}, /*credits=*/0);  // takes nothing for now
  auto b = bus.Connect("b", kDst);
  auto c = bus.Connect("c", kDst);
  ASSERT_TRUE(bus.Send("a", Request(ToAgent("q", "b", "question"))).refused.ok());
  ASSERT_TRUE(bus.Send("c", ToAgent("filler", "a", "fills a's queue")).refused.ok());
  for (int attempt = 0; attempt < 2; ++attempt) {
    SendOutcome out = bus.Send("b", Reply("r", "q", ""));
    ASSERT_TRUE(out.refused.ok()) << "attempt " << attempt << ": " << out.refused;
    ASSERT_EQ(out.errors.size(), 1u) << "attempt " << attempt;
    EXPECT_EQ(out.errors[0].reason(), v1::QUEUE_FULL);
    EXPECT_TRUE(out.accepted.empty());
  }
  EXPECT_EQ(bus.timers_pending(), 1u);  // its deadline still watches for the reply
}

// A reply refused with NEEDS_TEXT is resent by the SDK with text and the same message
// id (README: "Text needed but absent"); the resend must still find the request.
TEST(RouterTest, AReplyRefusedForTextCanBeResentWithText) {
  Bus bus;
  auto a = bus.Connect("a", kOther);  // no bridge from src to a's model
  auto b = bus.Connect("b", kSrc);
  ASSERT_TRUE(bus.Send("a", Request(ToAgent("q", "b", "question"))).refused.ok());
  v1::Envelope reply = WithLatent(Reply("r1", "q", ""));
  reply.clear_text();
  SendOutcome out = bus.Send("b", reply);
  ASSERT_EQ(ReasonOf(out.refused), v1::NEEDS_TEXT);
  EXPECT_EQ(out.refused_agents, Strings{"a"});

  reply.set_text("answer in words");
  out = bus.Send("b", reply);
  ASSERT_TRUE(out.refused.ok()) << out.refused;
  EXPECT_EQ(AgentsOf(out.accepted), Strings{"a"});
  EXPECT_EQ(a->Delivered().size(), 1u);
}

// The same through the SDK's Client::Reply, which names the requester: the resend must
// still count as the answer, which the send_to ACL does not guard.
TEST(RouterTest, AReplyRefusedForTextIsStillAReplyWhenResent) {
  Bus bus;
  auto a = bus.Connect("a", kOther);
  auto b = bus.Connect("b", kSrc);
  auto answers_only = std::make_shared<Principal>();
  answers_only->name = "answers-only";
  answers_only->send_to = {};  // may message nobody directly
  ASSERT_TRUE(bus.Send("a", Request(ToAgent("q", "b", "question"))).refused.ok());
  v1::Envelope reply = WithLatent(Reply("r1", "q", "a"));
  reply.clear_text();
  ASSERT_EQ(ReasonOf(bus.Send("b", reply, answers_only).refused), v1::NEEDS_TEXT);

  reply.set_text("answer in words");
  SendOutcome out = bus.Send("b", reply, answers_only);
  ASSERT_TRUE(out.refused.ok()) << out.refused;
  EXPECT_EQ(a->Delivered().size(), 1u);
}

}  // namespace
}  // namespace latentbus::broker
