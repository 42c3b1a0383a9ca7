// The broker's spans of a message (broker/send_trace.h, broker/delivery_trace.h), recorded
// by a real Router and InMemoryDelivery into a SpanCollector.
#include "broker/send_trace.h"

#include <gtest/gtest.h>

#include <set>

#include "broker/router_test_bus.h"
#include "telemetry/span_collector.h"

namespace latentbus::broker {
namespace {

using namespace test_bus;  // NOLINT(build/namespaces)
using telemetry::AttributeText;
using telemetry::SpanData;

constexpr char kParent[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

struct Traced {
  explicit Traced(const char* sampler = "") {
    auto c = std::make_unique<telemetry::SpanCollector>();
    collector = c.get();
    tracer =
        std::make_unique<telemetry::Tracer>(*telemetry::Sampler::Parse(sampler, ""), std::move(c));
  }
  telemetry::SpanCollector* collector;
  std::unique_ptr<telemetry::Tracer> tracer;
};

SpanData One(const telemetry::SpanCollector& c, const std::string& name) {
  std::vector<SpanData> spans = c.Named(name);
  EXPECT_EQ(spans.size(), 1u) << name;
  return spans.empty() ? SpanData{} : spans[0];
}

TEST(SendTraceTest, ALatentMessageRecordsEveryBrokerHopUnderTheSendersSpan) {
  Traced t;
  Bus bus({}, t.tracer.get());
  bus.AddBridge(kSrc, kDst, 0.95);
  bus.Connect("a", kSrc);
  auto b = bus.Connect("b", kDst);
  v1::Envelope e = WithLatent(ToAgent("m1", "b", ""), kSrc, 3);
  e.set_traceparent(kParent);
  SendOutcome out = bus.Send("a", e);
  ASSERT_TRUE(out.refused.ok()) << out.refused;
  ASSERT_TRUE(t.collector->Await(6, absl::Seconds(10)));

  const telemetry::SpanContext sender = *telemetry::ParseTraceparent(kParent);
  const SpanData send = One(*t.collector, "latentbus.broker.send");
  EXPECT_EQ(send.kind, telemetry::SpanKind::kServer);
  EXPECT_EQ(send.context.trace_id, sender.trace_id);
  EXPECT_EQ(send.parent_span_id, sender.span_id);
  EXPECT_TRUE(send.parent_remote);
  EXPECT_EQ(AttributeText(send, "messaging.message.id"), "m1");
  EXPECT_EQ(AttributeText(send, "messaging.destination.name"), "b");
  EXPECT_EQ(AttributeText(send, "latentbus.sender"), "a");
  EXPECT_EQ(AttributeText(send, "latentbus.form"), "latent");
  EXPECT_EQ(AttributeText(send, "latentbus.latent.rows"), "3");
  EXPECT_EQ(AttributeText(send, "latentbus.outcome"), "accepted");
  EXPECT_EQ(AttributeText(send, "latentbus.recipients.latent"), "1");
  EXPECT_FALSE(send.error);
  for (const char* child :
       {"latentbus.broker.validate", "latentbus.broker.route", "latentbus.broker.translate",
        "latentbus.broker.queue_wait", "latentbus.broker.deliver"}) {
    const SpanData s = One(*t.collector, child);
    EXPECT_EQ(s.context.trace_id, sender.trace_id) << child;
    EXPECT_EQ(s.parent_span_id, send.context.span_id) << child;
    EXPECT_FALSE(s.parent_remote) << child;
    EXPECT_GE(s.end_unix_nanos, s.start_unix_nanos) << child;
    EXPECT_GE(s.start_unix_nanos, send.start_unix_nanos) << child;
  }
  const SpanData translate = One(*t.collector, "latentbus.broker.translate");
  EXPECT_EQ(AttributeText(translate, "latentbus.recipient"), "b");
  EXPECT_EQ(AttributeText(translate, "latentbus.bridge.id"), "src>dst");
  EXPECT_EQ(AttributeText(translate, "latentbus.encoding"), "fp32");
  EXPECT_NE(AttributeText(translate, "latentbus.latent.bytes"), "");
  const SpanData deliver = One(*t.collector, "latentbus.broker.deliver");
  EXPECT_EQ(AttributeText(deliver, "latentbus.form"), "latent");
  EXPECT_EQ(AttributeText(deliver, "latentbus.delivery.attempt"), "1");
  // Phases in order: validate, route, translate, queue wait (from acceptance), deliver.
  const SpanData route = One(*t.collector, "latentbus.broker.route");
  EXPECT_LE(One(*t.collector, "latentbus.broker.validate").end_unix_nanos, route.start_unix_nanos);
  EXPECT_LE(route.end_unix_nanos, translate.start_unix_nanos);
  EXPECT_LE(translate.end_unix_nanos, deliver.start_unix_nanos);

  // The receiver's parent is the deliver span.
  std::vector<v1::Envelope> got = b->Delivered();
  ASSERT_EQ(got.size(), 1u);
  std::optional<telemetry::SpanContext> delivered =
      telemetry::ParseTraceparent(got[0].traceparent());
  ASSERT_TRUE(delivered.has_value()) << got[0].traceparent();
  EXPECT_EQ(delivered->trace_id, sender.trace_id);
  EXPECT_EQ(delivered->span_id, deliver.context.span_id);
  EXPECT_TRUE(delivered->sampled());
}

TEST(SendTraceTest, EachTopicSubscriberGetsItsOwnDeliverSpan) {
  Traced t;
  Bus bus({}, t.tracer.get());
  bus.Connect("a", kSrc, {"news"});
  auto b = bus.Connect("b", kDst, {"news"});
  auto c = bus.Connect("c", kDst, {"news"});
  ASSERT_TRUE(bus.Send("a", ToTopic("m1", "news", "hello")).refused.ok());
  ASSERT_TRUE(t.collector->Await(7, absl::Seconds(10)));  // send, validate, route, 2 x 2
  std::vector<SpanData> delivers = t.collector->Named("latentbus.broker.deliver");
  ASSERT_EQ(delivers.size(), 2u);
  std::set<std::string> recipients;
  for (const SpanData& d : delivers) recipients.insert(AttributeText(d, "latentbus.recipient"));
  EXPECT_EQ(recipients, (std::set<std::string>{"b", "c"}));
  const std::string tb = b->Delivered().at(0).traceparent(),
                    tc = c->Delivered().at(0).traceparent();
  EXPECT_NE(tb, tc);
  EXPECT_EQ(tb.substr(0, 35), tc.substr(0, 35));  // one trace: the broker started it
  EXPECT_TRUE(t.collector->Named("latentbus.broker.translate").empty());  // text
  const SpanData send = One(*t.collector, "latentbus.broker.send");
  EXPECT_EQ(send.parent_span_id, telemetry::SpanId{});  // a root: no traceparent came
  EXPECT_EQ(AttributeText(send, "latentbus.recipients.text"), "2");
}

TEST(SendTraceTest, ARefusalIsAnErrorNamingTheReason) {
  Traced t;
  Bus bus({}, t.tracer.get());
  bus.Connect("a", kSrc);
  v1::Envelope e = ToAgent("m1", "nobody", "hello");
  e.set_traceparent(kParent);
  SendOutcome out = bus.Send("a", e);
  ASSERT_FALSE(out.refused.ok());
  const SpanData send = One(*t.collector, "latentbus.broker.send");
  EXPECT_TRUE(send.error);
  EXPECT_EQ(AttributeText(send, "latentbus.outcome"), "NO_ROUTE");
  const SpanData route = One(*t.collector, "latentbus.broker.route");
  EXPECT_TRUE(route.error);  // the phase that refused it
  EXPECT_FALSE(One(*t.collector, "latentbus.broker.validate").error);
  EXPECT_TRUE(t.collector->Named("latentbus.broker.deliver").empty());
}

TEST(SendTraceTest, UnsampledMessagesRecordNothingAndKeepOrGetATraceparent) {
  Traced t("parentbased_always_off");
  Bus bus({}, t.tracer.get());
  bus.Connect("a", kSrc);
  auto b = bus.Connect("b", kDst);
  // A sender's unsampled context passes through untouched.
  v1::Envelope e = ToAgent("m1", "b", "hello");
  const std::string unsampled = std::string(kParent).substr(0, 53) + "00";
  e.set_traceparent(unsampled);
  ASSERT_TRUE(bus.Send("a", e).refused.ok());
  // None: the broker starts the trace (unsampled here) so receivers follow its decision.
  ASSERT_TRUE(bus.Send("a", ToAgent("m2", "b", "hello")).refused.ok());
  std::vector<v1::Envelope> got = b->Delivered();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].traceparent(), unsampled);
  std::optional<telemetry::SpanContext> started = telemetry::ParseTraceparent(got[1].traceparent());
  ASSERT_TRUE(started.has_value()) << got[1].traceparent();
  EXPECT_FALSE(started->sampled());
  EXPECT_TRUE(t.collector->spans().empty());
}

TEST(SendTraceTest, WithoutATracerTheEnvelopeIsUntouched) {
  Bus bus;
  bus.Connect("a", kSrc);
  auto b = bus.Connect("b", kDst);
  v1::Envelope e = ToAgent("m1", "b", "hello");
  e.set_traceparent("not a traceparent, passed through");
  ASSERT_TRUE(bus.Send("a", e).refused.ok());
  ASSERT_TRUE(bus.Send("a", ToAgent("m2", "b", "hello")).refused.ok());
  std::vector<v1::Envelope> got = b->Delivered();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].traceparent(), "not a traceparent, passed through");
  EXPECT_EQ(got[1].traceparent(), "");
}

}  // namespace
}  // namespace latentbus::broker
