#include "telemetry/span_exporter.h"

#include "spdlog/spdlog.h"

namespace latentbus::telemetry {

void LogPartialSuccess(const otlp::ExportTraceServiceResponse& response) {
  if (!response.has_partial_success()) return;
  const otlp::ExportTracePartialSuccess& p = response.partial_success();
  if (p.rejected_spans() == 0 && p.error_message().empty()) return;
  spdlog::warn("tracing: the collector rejected {} span(s): {}", p.rejected_spans(),
               p.error_message());
}

}  // namespace latentbus::telemetry
