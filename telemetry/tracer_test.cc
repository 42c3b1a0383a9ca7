#include "telemetry/tracer.h"

#include <vector>

#include "gtest/gtest.h"
#include "telemetry/span_collector.h"

namespace latentbus::telemetry {
namespace {

struct Fixture {
  explicit Fixture(const char* sampler = "") {
    auto c = std::make_unique<SpanCollector>();
    collector = c.get();
    tracer = std::make_unique<Tracer>(*Sampler::Parse(sampler, ""), std::move(c));
  }
  SpanCollector* collector;
  std::unique_ptr<Tracer> tracer;
};

TEST(TracerTest, NoTracerGivesAnEmptySpan) {
  Span s = StartSpan(nullptr, "x", SpanContext{});
  EXPECT_FALSE(s.recording());
  EXPECT_FALSE(s.context().valid());
  EXPECT_EQ(s.Traceparent(), "");
  Span child = s.StartChild("y");
  EXPECT_FALSE(child.context().valid());
  s.SetString("k", "v");
  s.End();
}

TEST(TracerTest, ARootSpanWithChildrenAndAttributes) {
  Fixture f;
  const absl::Time t0 = absl::FromUnixSeconds(1700000000);
  Span root = f.tracer->StartSpan("root", SpanContext{}, SpanKind::kProducer, t0);
  ASSERT_TRUE(root.recording());
  Span child = root.StartChild("child", SpanKind::kInternal, t0 + absl::Milliseconds(1));
  child.SetString("latentbus.form", "latent");
  child.SetInt("latentbus.latent.bytes", 4096);
  child.SetDouble("ratio", 0.5);
  child.SetBool("ok", true);
  child.SetError("bad");
  child.End(t0 + absl::Milliseconds(3));
  root.End(t0 + absl::Milliseconds(5));
  root.End();  // idempotent
  std::vector<SpanData> spans = f.collector->spans();
  ASSERT_EQ(spans.size(), 2u);
  const SpanData& c = spans[0];
  const SpanData& r = spans[1];
  EXPECT_EQ(r.name, "root");
  EXPECT_EQ(r.kind, SpanKind::kProducer);
  EXPECT_EQ(r.parent_span_id, SpanId{});
  EXPECT_EQ(c.context.trace_id, r.context.trace_id);
  EXPECT_EQ(c.parent_span_id, r.context.span_id);
  EXPECT_FALSE(c.parent_remote);
  EXPECT_EQ(c.end_unix_nanos - c.start_unix_nanos, 2000000);
  EXPECT_EQ(r.start_unix_nanos, absl::ToUnixNanos(t0));
  ASSERT_EQ(c.attributes.size(), 4u);
  EXPECT_EQ(std::get<std::string>(c.attributes[0].value), "latent");
  EXPECT_EQ(std::get<int64_t>(c.attributes[1].value), 4096);
  EXPECT_EQ(std::get<double>(c.attributes[2].value), 0.5);
  EXPECT_EQ(std::get<bool>(c.attributes[3].value), true);
  EXPECT_TRUE(c.error);
  EXPECT_EQ(c.error_message, "bad");
}

TEST(TracerTest, ARemoteParentIsFollowed) {
  Fixture f;
  std::optional<SpanContext> parent =
      ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_TRUE(parent.has_value());
  Span s = f.tracer->StartSpan("server", *parent, SpanKind::kServer);
  EXPECT_EQ(s.context().trace_id, parent->trace_id);
  EXPECT_NE(s.context().span_id, parent->span_id);
  EXPECT_EQ(s.Traceparent().substr(0, 36), "00-4bf92f3577b34da6a3ce929d0e0e4736-");
  EXPECT_EQ(s.Traceparent().substr(52), "-01");
  s.End();
  std::vector<SpanData> spans = f.collector->spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].parent_span_id, parent->span_id);
  EXPECT_TRUE(spans[0].parent_remote);
}

TEST(TracerTest, AnUnsampledSpanPropagatesButRecordsNothing) {
  Fixture f;  // parent-based: an unsampled parent is followed
  std::optional<SpanContext> parent =
      ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  ASSERT_TRUE(parent.has_value());
  Span s = f.tracer->StartSpan("server", *parent);
  EXPECT_FALSE(s.recording());
  EXPECT_TRUE(s.context().valid());
  EXPECT_FALSE(s.context().sampled());
  Span child = s.StartChild("child");
  EXPECT_FALSE(child.recording());
  EXPECT_EQ(child.context().trace_id, parent->trace_id);
  child.SetString("k", "v");
  child.End();
  s.End();
  EXPECT_TRUE(f.collector->spans().empty());
}

TEST(TracerTest, AMovedSpanEndsOnce) {
  Fixture f;
  {
    Span a = f.tracer->StartSpan("a", SpanContext{});
    Span b = std::move(a);
    Span c;
    c = std::move(b);
    EXPECT_FALSE(a.recording());  // NOLINT(bugprone-use-after-move): checked on purpose
    EXPECT_TRUE(c.recording());
  }
  EXPECT_EQ(f.collector->spans().size(), 1u);
}

}  // namespace
}  // namespace latentbus::telemetry
