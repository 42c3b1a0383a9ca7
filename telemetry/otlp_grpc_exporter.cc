#include "telemetry/otlp_grpc_exporter.h"

#include <chrono>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"

namespace latentbus::telemetry {

struct OtlpGrpcExporter::Impl {
  std::unique_ptr<otlp::TraceService::Stub> stub;
  std::vector<std::pair<std::string, std::string>> headers;
};

absl::StatusOr<std::unique_ptr<OtlpGrpcExporter>> OtlpGrpcExporter::Create(
    const std::string& target, bool tls, std::vector<std::pair<std::string, std::string>> headers) {
  if (target.empty()) return absl::InvalidArgumentError("OTLP/gRPC endpoint is empty");
  auto impl = std::make_unique<Impl>();
  std::shared_ptr<grpc::ChannelCredentials> creds =
      tls ? grpc::SslCredentials(grpc::SslCredentialsOptions())
          : grpc::InsecureChannelCredentials();
  impl->stub = otlp::TraceService::NewStub(grpc::CreateChannel(target, creds));
  for (auto& [k, v] : headers) impl->headers.emplace_back(absl::AsciiStrToLower(k), std::move(v));
  return std::unique_ptr<OtlpGrpcExporter>(new OtlpGrpcExporter(std::move(impl)));
}

OtlpGrpcExporter::OtlpGrpcExporter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OtlpGrpcExporter::~OtlpGrpcExporter() = default;

absl::Status OtlpGrpcExporter::Export(const otlp::ExportTraceServiceRequest& request,
                                      absl::Duration timeout) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::microseconds(absl::ToInt64Microseconds(timeout)));
  for (const auto& [k, v] : impl_->headers) context.AddMetadata(k, v);
  otlp::ExportTraceServiceResponse response;
  grpc::Status s = impl_->stub->Export(&context, request, &response);
  if (!s.ok()) {
    return absl::UnavailableError(absl::StrCat("TraceService/Export: ", s.error_message(),
                                               " (gRPC code ", static_cast<int>(s.error_code()),
                                               ")"));
  }
  LogPartialSuccess(response);
  return absl::OkStatus();
}

}  // namespace latentbus::telemetry
