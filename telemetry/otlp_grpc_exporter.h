// OTLP/gRPC: the unary call opentelemetry.proto.collector.trace.v1.TraceService/Export
// on `target` (host:port; TLS with the system roots when `tls`), with the configured
// headers as call metadata (keys lower-cased, as gRPC requires). A non-OK gRPC status
// is an error.
//
// Thread safety: not safe for concurrent use (one batch processor worker calls it).
#ifndef LATENTBUS_TELEMETRY_OTLP_GRPC_EXPORTER_H_
#define LATENTBUS_TELEMETRY_OTLP_GRPC_EXPORTER_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "telemetry/span_exporter.h"

namespace latentbus::telemetry {

class OtlpGrpcExporter final : public SpanExporter {
 public:
  static absl::StatusOr<std::unique_ptr<OtlpGrpcExporter>> Create(
      const std::string& target, bool tls,
      std::vector<std::pair<std::string, std::string>> headers);
  ~OtlpGrpcExporter() override;

  absl::Status Export(const otlp::ExportTraceServiceRequest& request,
                      absl::Duration timeout) override;

 private:
  struct Impl;
  explicit OtlpGrpcExporter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace latentbus::telemetry

#endif  // LATENTBUS_TELEMETRY_OTLP_GRPC_EXPORTER_H_
