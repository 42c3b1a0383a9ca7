// Tracing configured from the standard OpenTelemetry environment variables, and the
// Tracer it makes. Tracing is off (no Tracer: nothing recorded, nothing sent, no cost)
// unless an OTLP endpoint is set, and when OTEL_SDK_DISABLED=true or
// OTEL_TRACES_EXPORTER=none.
//
//   OTEL_EXPORTER_OTLP_TRACES_ENDPOINT  the traces URL, used as is
//   OTEL_EXPORTER_OTLP_ENDPOINT         base URL: http/protobuf posts to <base>/v1/traces
//   OTEL_EXPORTER_OTLP[_TRACES]_PROTOCOL http/protobuf (default) | grpc
//   OTEL_EXPORTER_OTLP[_TRACES]_HEADERS k=v,k2=v2 (values percent-decoded)
//   OTEL_EXPORTER_OTLP[_TRACES]_TIMEOUT  milliseconds per export (default 10000)
//   OTEL_EXPORTER_OTLP[_TRACES]_INSECURE grpc with an endpoint without a scheme: true
//                                        for plaintext (default: TLS); http:// is always
//                                        plaintext and https:// TLS
//   OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES (k=v,...)
//   OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG (telemetry/sampler.h)
//   OTEL_BSP_SCHEDULE_DELAY (ms), OTEL_BSP_MAX_QUEUE_SIZE, OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
//   LATENTBUS_OTEL_MAX_QUEUE_BYTES (telemetry/batch_processor.h)
// The _TRACES_ variant of a variable wins over the general one.
#ifndef LATENTBUS_TELEMETRY_CONFIG_H_
#define LATENTBUS_TELEMETRY_CONFIG_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "telemetry/batch_processor.h"
#include "telemetry/otlp_encoder.h"
#include "telemetry/sampler.h"
#include "telemetry/tracer.h"

namespace latentbus::telemetry {

enum class OtlpProtocol { kHttpProtobuf, kGrpc };

struct TracingConfig {
  bool enabled = false;  // an endpoint is set and tracing is not disabled
  OtlpProtocol protocol = OtlpProtocol::kHttpProtobuf;
  // http/protobuf: the full traces URL; grpc: host:port.
  std::string endpoint;
  bool tls = false;  // grpc only (http/protobuf takes it from the URL's scheme)
  std::vector<std::pair<std::string, std::string>> headers;
  Sampler sampler;
  BatchOptions batch;
  Resource resource;  // service.name first
};

// Reads the variables through `getenv` (null: the process environment). `service_name`
// is service.name unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES sets it;
// `instance_id` (when not empty) is service.instance.id. INVALID_ARGUMENT names the
// variable that is wrong.
absl::StatusOr<TracingConfig> TracingConfigFromEnvironment(
    absl::string_view service_name, absl::string_view instance_id,
    const std::function<const char*(const char*)>& getenv = nullptr);

// The Tracer for `config`: an OTLP exporter behind a BatchSpanProcessor. Null when
// tracing is off.
absl::StatusOr<std::unique_ptr<Tracer>> MakeTracer(const TracingConfig& config);

// Both steps, and one log line saying where spans go (or nothing when off).
absl::StatusOr<std::unique_ptr<Tracer>> TracerFromEnvironment(absl::string_view service_name,
                                                              absl::string_view instance_id);

// "k=v,k2=v2" -> pairs, keys and values trimmed and percent-decoded (W3C baggage
// style, as OTEL_RESOURCE_ATTRIBUTES and OTEL_EXPORTER_OTLP_HEADERS are written).
// INVALID_ARGUMENT for an entry without '=' or an empty key.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseKeyValueList(
    absl::string_view list);

}  // namespace latentbus::telemetry

#endif  // LATENTBUS_TELEMETRY_CONFIG_H_
