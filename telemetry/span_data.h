// A finished span as the exporter sees it: plain data, no OTLP types (the encoder,
// telemetry/otlp_encoder.h, turns a batch of these into an OTLP request).
#ifndef LATENTBUS_TELEMETRY_SPAN_DATA_H_
#define LATENTBUS_TELEMETRY_SPAN_DATA_H_

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "telemetry/trace_context.h"

namespace latentbus::telemetry {

// OTLP's SpanKind values.
enum class SpanKind : int {
  kInternal = 1,
  kServer = 2,
  kClient = 3,
  kProducer = 4,
  kConsumer = 5,
};

using AttributeValue = std::variant<std::string, int64_t, double, bool>;

struct Attribute {
  std::string key;
  AttributeValue value;
};

struct SpanData {
  SpanContext context;         // this span's trace id, span id and flags
  SpanId parent_span_id{};     // all zero: a root span
  bool parent_remote = false;  // the parent came from another process (a traceparent)
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  int64_t start_unix_nanos = 0;
  int64_t end_unix_nanos = 0;
  std::vector<Attribute> attributes;
  bool error = false;  // OTLP status ERROR (else UNSET)
  std::string error_message;

  // What the span holds in memory, roughly: what the exporter's byte budget counts.
  size_t ApproxBytes() const;
};

}  // namespace latentbus::telemetry

#endif  // LATENTBUS_TELEMETRY_SPAN_DATA_H_
