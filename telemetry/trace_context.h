// W3C Trace Context (https://www.w3.org/TR/trace-context/): the identity of a span as it
// travels between processes in `Envelope.traceparent`, and the ids of new spans.
//
// traceparent layout (version 00, 55 characters, lowercase hex):
//   00-<trace id: 32 hex>-<parent span id: 16 hex>-<flags: 2 hex>
//   e.g. 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
// Flag bit 0 (0x01) is "sampled". All-zero trace or span ids are invalid, and so is
// version ff. A later version may append fields after a '-': the first four are read as
// version 00's and the rest ignored (the spec's forward-compatibility rule); version 00
// must be exactly 55 characters.
//
// Thread safety: the free functions are safe for concurrent use; NewTraceId/NewSpanId
// use a per-thread generator.
#ifndef LATENTBUS_TELEMETRY_TRACE_CONTEXT_H_
#define LATENTBUS_TELEMETRY_TRACE_CONTEXT_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace latentbus::telemetry {

using TraceId = std::array<uint8_t, 16>;
using SpanId = std::array<uint8_t, 8>;

inline constexpr uint8_t kSampledFlag = 0x01;
inline constexpr size_t kTraceparentLength = 55;

// A span's identity as propagated: trace id, span id and the trace flags. A
// default-constructed one is invalid (no trace).
struct SpanContext {
  TraceId trace_id{};
  SpanId span_id{};
  uint8_t flags = 0;
  bool remote = false;  // parsed from another process's traceparent

  bool valid() const;
  bool sampled() const { return (flags & kSampledFlag) != 0; }
};

bool operator==(const SpanContext& a, const SpanContext& b);

// Parses a traceparent header value; nullopt when it is malformed (wrong length, upper
// case or non-hex digits, all-zero ids, version ff, ...). The result has remote = true.
// Never reads past `value`; allocates nothing.
std::optional<SpanContext> ParseTraceparent(absl::string_view value);

// The version-00 traceparent of `context` (55 characters). `context` must be valid.
std::string FormatTraceparent(const SpanContext& context);
// The same into `out` (exactly kTraceparentLength characters, no terminator).
void FormatTraceparentTo(const SpanContext& context, char* out);

// Lowercase hex of the ids (32 and 16 characters).
std::string TraceIdHex(const TraceId& id);
std::string SpanIdHex(const SpanId& id);

// Random, never all zero (W3C: trace ids should carry randomness in their right half;
// every bit is random here).
TraceId NewTraceId();
SpanId NewSpanId();

}  // namespace latentbus::telemetry

#endif  // LATENTBUS_TELEMETRY_TRACE_CONTEXT_H_
