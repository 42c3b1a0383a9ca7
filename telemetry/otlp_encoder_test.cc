#include "telemetry/otlp_encoder.h"

#include "gtest/gtest.h"

namespace latentbus::telemetry {
namespace {

namespace trace = ::opentelemetry::proto::trace::v1;

TEST(OtlpEncoderTest, WritesOneResourceOneScopeAndEverySpanField) {
  Resource resource;
  resource.attributes.push_back({"service.name", std::string("latentbus-broker")});
  SpanData child;
  child.context = *ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  child.parent_span_id = {1, 2, 3, 4, 5, 6, 7, 8};
  child.parent_remote = true;
  child.name = "latentbus.broker.send";
  child.kind = SpanKind::kServer;
  child.start_unix_nanos = 1700000000000000001;
  child.end_unix_nanos = 1700000000000000999;
  child.attributes = {{"s", std::string("v")}, {"i", int64_t{7}}, {"d", 0.25}, {"b", false}};
  child.error = true;
  child.error_message = "QUEUE_FULL";
  SpanData root;
  root.context = SpanContext{NewTraceId(), NewSpanId(), 1, false};
  root.name = "root";
  SpanData spans[] = {child, root};
  auto request = EncodeSpans(resource, spans, 2);

  ASSERT_EQ(request.resource_spans_size(), 1);
  const trace::ResourceSpans& rs = request.resource_spans(0);
  ASSERT_EQ(rs.resource().attributes_size(), 1);
  EXPECT_EQ(rs.resource().attributes(0).key(), "service.name");
  EXPECT_EQ(rs.resource().attributes(0).value().string_value(), "latentbus-broker");
  ASSERT_EQ(rs.scope_spans_size(), 1);
  EXPECT_EQ(rs.scope_spans(0).scope().name(), kScopeName);
  ASSERT_EQ(rs.scope_spans(0).spans_size(), 2);
  const trace::Span& s = rs.scope_spans(0).spans(0);
  EXPECT_EQ(s.trace_id(),
            std::string("\x4b\xf9\x2f\x35\x77\xb3\x4d\xa6\xa3\xce\x92\x9d\x0e\x0e\x47\x36", 16));
  EXPECT_EQ(s.span_id(), std::string("\x00\xf0\x67\xaa\x0b\xa9\x02\xb7", 8));
  EXPECT_EQ(s.parent_span_id(), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  EXPECT_EQ(s.flags(), 0x301u);  // sampled, has-is-remote, is-remote
  EXPECT_EQ(s.name(), "latentbus.broker.send");
  EXPECT_EQ(s.kind(), trace::Span::SPAN_KIND_SERVER);
  EXPECT_EQ(s.start_time_unix_nano(), 1700000000000000001u);
  EXPECT_EQ(s.end_time_unix_nano(), 1700000000000000999u);
  ASSERT_EQ(s.attributes_size(), 4);
  EXPECT_EQ(s.attributes(0).value().string_value(), "v");
  EXPECT_EQ(s.attributes(1).value().int_value(), 7);
  EXPECT_EQ(s.attributes(2).value().double_value(), 0.25);
  EXPECT_TRUE(s.attributes(3).value().has_bool_value());
  EXPECT_FALSE(s.attributes(3).value().bool_value());
  EXPECT_EQ(s.status().code(), trace::Status::STATUS_CODE_ERROR);
  EXPECT_EQ(s.status().message(), "QUEUE_FULL");

  const trace::Span& r = rs.scope_spans(0).spans(1);
  EXPECT_TRUE(r.parent_span_id().empty());
  EXPECT_EQ(r.flags(), 0x101u);
  EXPECT_EQ(r.kind(), trace::Span::SPAN_KIND_INTERNAL);
  EXPECT_FALSE(r.has_status());
}

// The bytes of a field the spec gives a fixed width: fixed64 times (tag 0x39 = field 7,
// wire type 1) and a fixed32 flags (field 16, wire type 5: tag 0x85 0x01).
TEST(OtlpEncoderTest, WireBytesUseTheSpecsFieldNumbersAndTypes) {
  SpanData d;
  d.context = SpanContext{NewTraceId(), NewSpanId(), 1, false};
  d.name = "n";
  d.start_unix_nanos = 0x0102030405060708;
  d.end_unix_nanos = 0x0102030405060709;
  auto request = EncodeSpans(Resource{}, &d, 1);
  const std::string span = request.resource_spans(0).scope_spans(0).spans(0).SerializeAsString();
  EXPECT_NE(span.find(std::string("\x39\x08\x07\x06\x05\x04\x03\x02\x01", 9)), std::string::npos);
  EXPECT_NE(span.find(std::string("\x85\x01\x01\x01\x00\x00", 6)), std::string::npos);
  EXPECT_EQ(span.substr(0, 2), std::string("\x0a\x10", 2));  // trace_id: field 1, 16 bytes
}

}  // namespace
}  // namespace latentbus::telemetry
