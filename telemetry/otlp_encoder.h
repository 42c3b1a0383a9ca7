// Finished spans -> one OTLP ExportTraceServiceRequest (the generated messages of
// telemetry/proto, standard OTLP field numbers): one ResourceSpans with the process's
// resource attributes, one ScopeSpans named kScopeName, one Span per SpanData.
//
// Mapping: ids as raw bytes (16 and 8; a root span has no parent_span_id); flags = the
// W3C trace flags | 0x100 (SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK) | 0x200 when the parent
// is remote; kind and times as is; attributes by their type (string, int, double, bool);
// status ERROR with its message when the span failed, else UNSET.
#ifndef LATENTBUS_TELEMETRY_OTLP_ENCODER_H_
#define LATENTBUS_TELEMETRY_OTLP_ENCODER_H_

#include <cstddef>
#include <vector>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "telemetry/span_data.h"

namespace latentbus::telemetry {

inline constexpr char kScopeName[] = "latentbus";
inline constexpr char kScopeVersion[] = "0.1.0";

// The process that records spans (OTLP Resource): service.name and the rest.
struct Resource {
  std::vector<Attribute> attributes;
};

// spans[0, count) as one request.
::opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest EncodeSpans(
    const Resource& resource, const SpanData* spans, size_t count);

}  // namespace latentbus::telemetry

#endif  // LATENTBUS_TELEMETRY_OTLP_ENCODER_H_
