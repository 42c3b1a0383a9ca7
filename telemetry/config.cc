#include "telemetry/config.h"

#include <unistd.h>

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "spdlog/spdlog.h"
#include "telemetry/otlp_grpc_exporter.h"
#include "telemetry/otlp_http_exporter.h"

namespace latentbus::telemetry {
namespace {

using Getenv = std::function<const char*(const char*)>;

// The value of `name`, trimmed; "" when unset.
std::string Env(const Getenv& getenv, const char* name) {
  const char* v = getenv(name);
  return v == nullptr ? std::string() : std::string(absl::StripAsciiWhitespace(v));
}

// The _TRACES_ variable when set, else the general one.
std::string TracesEnv(const Getenv& getenv, const std::string& suffix) {
  std::string v = Env(getenv, ("OTEL_EXPORTER_OTLP_TRACES_" + suffix).c_str());
  return v.empty() ? Env(getenv, ("OTEL_EXPORTER_OTLP_" + suffix).c_str()) : v;
}

bool IsTrue(const std::string& v) { return absl::AsciiStrToLower(v) == "true"; }

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = absl::ascii_tolower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string PercentDecode(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexDigit(s[i + 1]) >= 0 && HexDigit(s[i + 2]) >= 0) {
      out += static_cast<char>(HexDigit(s[i + 1]) << 4 | HexDigit(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// A positive integer variable into `out` (unset: unchanged).
absl::Status PositiveEnv(const Getenv& getenv, const char* name, size_t* out) {
  const std::string v = Env(getenv, name);
  if (v.empty()) return absl::OkStatus();
  uint64_t n = 0;
  if (!absl::SimpleAtoi(v, &n) || n == 0) {
    return absl::InvalidArgumentError(absl::StrCat(name, "='", v, "' is not a positive integer"));
  }
  *out = static_cast<size_t>(n);
  return absl::OkStatus();
}

absl::Status MillisEnv(const std::string& name, const std::string& v, absl::Duration* out) {
  if (v.empty()) return absl::OkStatus();
  uint64_t ms = 0;
  if (!absl::SimpleAtoi(v, &ms) || ms == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, "='", v, "' is not a positive number of milliseconds"));
  }
  *out = absl::Milliseconds(static_cast<int64_t>(ms));
  return absl::OkStatus();
}

// The endpoint, protocol and TLS choice.
absl::Status ReadEndpoint(const Getenv& getenv, TracingConfig* c) {
  std::string protocol = TracesEnv(getenv, "PROTOCOL");
  if (protocol.empty() || protocol == "http/protobuf") {
    c->protocol = OtlpProtocol::kHttpProtobuf;
  } else if (protocol == "grpc") {
    c->protocol = OtlpProtocol::kGrpc;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("OTEL_EXPORTER_OTLP_PROTOCOL='", protocol,
                     "' is not supported (http/protobuf or grpc; not http/json)"));
  }
  std::string url = Env(getenv, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  const bool signal_specific = !url.empty();
  if (!signal_specific) url = Env(getenv, "OTEL_EXPORTER_OTLP_ENDPOINT");
  if (url.empty()) return absl::OkStatus();  // off
  c->enabled = true;
  if (c->protocol == OtlpProtocol::kHttpProtobuf) {
    if (!signal_specific) {
      // The base URL's path, then v1/traces (the spec's rule for the general variable).
      absl::StatusOr<std::pair<std::string, std::string>> parts = SplitHttpUrl(url);
      if (!parts.ok()) return parts.status();
      std::string path = parts->second;
      if (!absl::EndsWith(path, "/")) path += "/";
      url = parts->first + path + "v1/traces";
    }
    if (absl::Status s = SplitHttpUrl(url).status(); !s.ok()) return s;
    c->endpoint = url;
    return absl::OkStatus();
  }
  // grpc: host:port from the URL; its scheme says plaintext or TLS.
  absl::string_view rest = url;
  if (absl::ConsumePrefix(&rest, "http://")) {
    c->tls = false;
  } else if (absl::ConsumePrefix(&rest, "https://")) {
    c->tls = true;
  } else {
    c->tls = !IsTrue(TracesEnv(getenv, "INSECURE"));
  }
  rest = rest.substr(0, rest.find('/'));
  if (rest.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("OTLP endpoint '", url, "' names no host"));
  }
  c->endpoint = std::string(rest);
  return absl::OkStatus();
}

absl::Status ReadResource(const Getenv& getenv, absl::string_view service_name,
                          absl::string_view instance_id, Resource* resource) {
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> attrs =
      ParseKeyValueList(Env(getenv, "OTEL_RESOURCE_ATTRIBUTES"));
  if (!attrs.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("OTEL_RESOURCE_ATTRIBUTES: ", attrs.status().message()));
  }
  std::string service = Env(getenv, "OTEL_SERVICE_NAME");
  std::vector<Attribute> rest;
  bool has_instance = false;
  for (auto& [k, v] : *attrs) {
    if (k == "service.name") {
      if (service.empty()) service = v;
      continue;
    }
    if (k == "service.instance.id") has_instance = true;
    rest.push_back({k, v});
  }
  if (service.empty()) service = std::string(service_name);
  resource->attributes.push_back({"service.name", service});
  if (!has_instance && !instance_id.empty()) {
    resource->attributes.push_back({"service.instance.id", std::string(instance_id)});
  }
  resource->attributes.push_back({"service.version", std::string(kScopeVersion)});
  resource->attributes.push_back({"process.pid", static_cast<int64_t>(getpid())});
  resource->attributes.push_back({"telemetry.sdk.name", std::string("latentbus")});
  resource->attributes.push_back({"telemetry.sdk.language", std::string("cpp")});
  resource->attributes.push_back({"telemetry.sdk.version", std::string(kScopeVersion)});
  for (Attribute& a : rest) resource->attributes.push_back(std::move(a));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseKeyValueList(
    absl::string_view list) {
  std::vector<std::pair<std::string, std::string>> out;
  for (absl::string_view entry : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    const size_t eq = entry.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("'", entry, "' is not key=value"));
    }
    std::string key = PercentDecode(absl::StripAsciiWhitespace(entry.substr(0, eq)));
    if (key.empty()) return absl::InvalidArgumentError(absl::StrCat("'", entry, "' has no key"));
    out.emplace_back(std::move(key),
                     PercentDecode(absl::StripAsciiWhitespace(entry.substr(eq + 1))));
  }
  return out;
}

absl::StatusOr<TracingConfig> TracingConfigFromEnvironment(absl::string_view service_name,
                                                           absl::string_view instance_id,
                                                           const Getenv& getenv_in) {
  const Getenv getenv = getenv_in ? getenv_in : [](const char* n) { return std::getenv(n); };
  TracingConfig c;
  if (IsTrue(Env(getenv, "OTEL_SDK_DISABLED"))) return c;
  const std::string exporter = absl::AsciiStrToLower(Env(getenv, "OTEL_TRACES_EXPORTER"));
  if (exporter == "none") return c;
  if (!exporter.empty() && exporter != "otlp") {
    return absl::InvalidArgumentError(
        absl::StrCat("OTEL_TRACES_EXPORTER='", exporter, "' is not supported (otlp or none)"));
  }
  if (absl::Status s = ReadEndpoint(getenv, &c); !s.ok()) return s;
  if (!c.enabled) return c;
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> headers =
      ParseKeyValueList(TracesEnv(getenv, "HEADERS"));
  if (!headers.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("OTEL_EXPORTER_OTLP_HEADERS: ", headers.status().message()));
  }
  c.headers = *std::move(headers);
  absl::StatusOr<Sampler> sampler =
      Sampler::Parse(Env(getenv, "OTEL_TRACES_SAMPLER"), Env(getenv, "OTEL_TRACES_SAMPLER_ARG"));
  if (!sampler.ok()) return sampler.status();
  c.sampler = *sampler;
  BatchOptions& b = c.batch;
  for (absl::Status s :
       {PositiveEnv(getenv, "OTEL_BSP_MAX_QUEUE_SIZE", &b.max_queue_spans),
        PositiveEnv(getenv, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", &b.max_batch_spans),
        PositiveEnv(getenv, "LATENTBUS_OTEL_MAX_QUEUE_BYTES", &b.max_queue_bytes),
        MillisEnv("OTEL_BSP_SCHEDULE_DELAY", Env(getenv, "OTEL_BSP_SCHEDULE_DELAY"),
                  &b.schedule_delay),
        MillisEnv("OTEL_EXPORTER_OTLP_TIMEOUT", TracesEnv(getenv, "TIMEOUT"), &b.export_timeout)}) {
    if (!s.ok()) return s;
  }
  if (b.max_batch_spans > b.max_queue_spans) b.max_batch_spans = b.max_queue_spans;
  if (absl::Status s = ReadResource(getenv, service_name, instance_id, &c.resource); !s.ok()) {
    return s;
  }
  return c;
}

absl::StatusOr<std::unique_ptr<Tracer>> MakeTracer(const TracingConfig& config) {
  if (!config.enabled) return nullptr;
  std::unique_ptr<SpanExporter> exporter;
  if (config.protocol == OtlpProtocol::kGrpc) {
    absl::StatusOr<std::unique_ptr<OtlpGrpcExporter>> e =
        OtlpGrpcExporter::Create(config.endpoint, config.tls, config.headers);
    if (!e.ok()) return e.status();
    exporter = *std::move(e);
  } else {
    absl::StatusOr<std::unique_ptr<OtlpHttpExporter>> e =
        OtlpHttpExporter::Create(config.endpoint, config.headers);
    if (!e.ok()) return e.status();
    exporter = *std::move(e);
  }
  return std::make_unique<Tracer>(
      config.sampler,
      std::make_unique<BatchSpanProcessor>(std::move(exporter), config.resource, config.batch));
}

absl::StatusOr<std::unique_ptr<Tracer>> TracerFromEnvironment(absl::string_view service_name,
                                                              absl::string_view instance_id) {
  absl::StatusOr<TracingConfig> config = TracingConfigFromEnvironment(service_name, instance_id);
  if (!config.ok()) return config.status();
  absl::StatusOr<std::unique_ptr<Tracer>> tracer = MakeTracer(*config);
  if (tracer.ok() && *tracer != nullptr) {
    spdlog::info(
        "tracing: OTLP {} to {}{}, sampler {}",
        config->protocol == OtlpProtocol::kGrpc ? "grpc" : "http/protobuf", config->endpoint,
        config->protocol == OtlpProtocol::kGrpc ? (config->tls ? " (TLS)" : " (plaintext)") : "",
        config->sampler.Description());
  }
  return tracer;
}

}  // namespace latentbus::telemetry
