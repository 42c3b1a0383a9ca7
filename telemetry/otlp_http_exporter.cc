#include "telemetry/otlp_http_exporter.h"

#include <httplib.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace latentbus::telemetry {

absl::StatusOr<std::pair<std::string, std::string>> SplitHttpUrl(const std::string& url) {
  const size_t scheme_end = url.find("://");
  const std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    return absl::InvalidArgumentError(
        absl::StrCat("OTLP endpoint '", url, "' is not an http:// or https:// URL"));
  }
  const size_t host_start = scheme_end + 3;
  const size_t path_start = url.find('/', host_start);
  std::string base = url.substr(0, path_start);
  std::string path = path_start == std::string::npos ? "/" : url.substr(path_start);
  if (base.size() <= host_start) {
    return absl::InvalidArgumentError(absl::StrCat("OTLP endpoint '", url, "' names no host"));
  }
  return std::make_pair(std::move(base), std::move(path));
}

struct OtlpHttpExporter::Impl {
  std::string path;
  httplib::Headers headers;
  std::unique_ptr<httplib::Client> client;
};

absl::StatusOr<std::unique_ptr<OtlpHttpExporter>> OtlpHttpExporter::Create(
    const std::string& url, std::vector<std::pair<std::string, std::string>> headers) {
  absl::StatusOr<std::pair<std::string, std::string>> parts = SplitHttpUrl(url);
  if (!parts.ok()) return parts.status();
  auto impl = std::make_unique<Impl>();
  impl->path = parts->second;
  for (auto& [k, v] : headers) impl->headers.emplace(std::move(k), std::move(v));
  impl->client = std::make_unique<httplib::Client>(parts->first);
  if (!impl->client->is_valid()) {
    return absl::InvalidArgumentError(absl::StrCat("OTLP endpoint '", url, "' is not usable"));
  }
  impl->client->set_keep_alive(true);
  return std::unique_ptr<OtlpHttpExporter>(new OtlpHttpExporter(std::move(impl)));
}

OtlpHttpExporter::OtlpHttpExporter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OtlpHttpExporter::~OtlpHttpExporter() = default;

absl::Status OtlpHttpExporter::Export(const otlp::ExportTraceServiceRequest& request,
                                      absl::Duration timeout) {
  const auto micros = absl::ToInt64Microseconds(timeout);
  impl_->client->set_connection_timeout(micros / 1000000, micros % 1000000);
  impl_->client->set_read_timeout(micros / 1000000, micros % 1000000);
  impl_->client->set_write_timeout(micros / 1000000, micros % 1000000);
  const std::string body = request.SerializeAsString();
  httplib::Result r =
      impl_->client->Post(impl_->path, impl_->headers, body, "application/x-protobuf");
  if (!r) {
    return absl::UnavailableError(
        absl::StrCat("POST ", impl_->path, ": ", httplib::to_string(r.error())));
  }
  if (r->status < 200 || r->status >= 300) {
    return absl::UnavailableError(absl::StrCat("POST ", impl_->path, " answered HTTP ", r->status,
                                               ": ", r->body.substr(0, 200)));
  }
  otlp::ExportTraceServiceResponse response;
  if (response.ParseFromString(r->body)) LogPartialSuccess(response);
  return absl::OkStatus();
}

}  // namespace latentbus::telemetry
