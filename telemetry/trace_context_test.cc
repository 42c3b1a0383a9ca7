#include "telemetry/trace_context.h"

#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace latentbus::telemetry {
namespace {

constexpr char kExample[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceparentTest, ParsesTheSpecExample) {
  std::optional<SpanContext> c = ParseTraceparent(kExample);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(TraceIdHex(c->trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(SpanIdHex(c->span_id), "00f067aa0ba902b7");
  EXPECT_TRUE(c->sampled());
  EXPECT_TRUE(c->remote);
  EXPECT_EQ(FormatTraceparent(*c), kExample);
}

TEST(TraceparentTest, KeepsFlagsOtherThanSampled) {
  std::optional<SpanContext> c =
      ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02");
  ASSERT_TRUE(c.has_value());
  EXPECT_FALSE(c->sampled());
  EXPECT_EQ(c->flags, 0x02);
}

TEST(TraceparentTest, RefusesMalformedValues) {
  const std::string good = kExample;
  for (const std::string& bad : std::vector<std::string>{
           std::string(""), good.substr(0, 54),  // short
           good + "-",                           // version 00 is 55
           "ff" + good.substr(2),                // version ff
           "0g" + good.substr(2),                // non-hex version
           good.substr(0, 3) + "4BF92F3577B34DA6A3CE929D0E0E4736" + good.substr(35),  // upper
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // zero trace id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // zero span id
           "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // separator
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",  // flags
           "00-4bf92f3577b34da6a3ce929d0e0e473 -00f067aa0ba902b7-01",  // space in the id
       }) {
    EXPECT_FALSE(ParseTraceparent(bad).has_value()) << "'" << bad << "'";
  }
}

TEST(TraceparentTest, AFutureVersionMayAppendFields) {
  const std::string future = "01" + std::string(kExample).substr(2);
  EXPECT_TRUE(ParseTraceparent(future).has_value());
  EXPECT_TRUE(ParseTraceparent(future + "-whatever").has_value());
  EXPECT_FALSE(ParseTraceparent(future + "x").has_value());  // no '-' after the flags
}

TEST(TraceparentTest, NewIdsAreValidAndDistinct) {
  std::set<std::string> traces, spans;
  for (int i = 0; i < 1000; ++i) {
    SpanContext c{NewTraceId(), NewSpanId(), kSampledFlag, false};
    ASSERT_TRUE(c.valid());
    traces.insert(TraceIdHex(c.trace_id));
    spans.insert(SpanIdHex(c.span_id));
    std::optional<SpanContext> back = ParseTraceparent(FormatTraceparent(c));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->trace_id, c.trace_id);
    EXPECT_EQ(back->span_id, c.span_id);
  }
  EXPECT_EQ(traces.size(), 1000u);
  EXPECT_EQ(spans.size(), 1000u);
}

}  // namespace
}  // namespace latentbus::telemetry
