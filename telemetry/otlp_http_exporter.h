// OTLP/HTTP with binary protobuf: POST <url> with Content-Type application/x-protobuf and
// the serialized ExportTraceServiceRequest; any 2xx answer is success (a partial success
// is logged), anything else an error status naming the HTTP status. http:// and https://
// (the system's CA roots) URLs.
//
// Thread safety: not safe for concurrent use (one batch processor worker calls it).
#ifndef LATENTBUS_TELEMETRY_OTLP_HTTP_EXPORTER_H_
#define LATENTBUS_TELEMETRY_OTLP_HTTP_EXPORTER_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "telemetry/span_exporter.h"

namespace latentbus::telemetry {

class OtlpHttpExporter final : public SpanExporter {
 public:
  // `url`: the full traces URL, e.g. http://collector:4318/v1/traces. INVALID_ARGUMENT
  // when it is not an http(s) URL with a host.
  static absl::StatusOr<std::unique_ptr<OtlpHttpExporter>> Create(
      const std::string& url, std::vector<std::pair<std::string, std::string>> headers);
  ~OtlpHttpExporter() override;

  absl::Status Export(const otlp::ExportTraceServiceRequest& request,
                      absl::Duration timeout) override;

 private:
  struct Impl;
  explicit OtlpHttpExporter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Splits an http(s) URL into "scheme://host[:port]" and its path ("/" when none).
absl::StatusOr<std::pair<std::string, std::string>> SplitHttpUrl(const std::string& url);

}  // namespace latentbus::telemetry

#endif  // LATENTBUS_TELEMETRY_OTLP_HTTP_EXPORTER_H_
