// Sends one OTLP export request somewhere: OTLP/HTTP (telemetry/otlp_http_exporter.h),
// OTLP/gRPC (telemetry/otlp_grpc_exporter.h), or a test's collector.
//
// Thread safety: the batch processor calls Export from its one worker thread; an
// implementation need not be safe for concurrent use.
#ifndef LATENTBUS_TELEMETRY_SPAN_EXPORTER_H_
#define LATENTBUS_TELEMETRY_SPAN_EXPORTER_H_

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace latentbus::telemetry {

namespace otlp = ::opentelemetry::proto::collector::trace::v1;

class SpanExporter {
 public:
  virtual ~SpanExporter() = default;
  // Delivers `request` within `timeout`; an error status when the receiver could not be
  // reached or refused it (the spans are then dropped and counted, not retried).
  virtual absl::Status Export(const otlp::ExportTraceServiceRequest& request,
                              absl::Duration timeout) = 0;
};

// Logs a response's partial success (spans the receiver refused), if it reports one.
void LogPartialSuccess(const otlp::ExportTraceServiceResponse& response);

}  // namespace latentbus::telemetry

#endif  // LATENTBUS_TELEMETRY_SPAN_EXPORTER_H_
