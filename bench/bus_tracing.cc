#include "bench/bus_tracing.h"

#include <utility>

#include "bench/bus_report.h"
#include "telemetry/batch_processor.h"
#include "telemetry/config.h"

namespace latentbus::bench {

const std::vector<TracingRow>& TracingRows() {
  static const std::vector<TracingRow> rows = {
      {kLatentbusTrace1, 0.01, "latentbus, tracing 1% sampled"},
      {kLatentbusTrace100, 1.0, "latentbus, tracing 100% sampled"},
  };
  return rows;
}

const TracingRow* FindTracingRow(const std::string& system) {
  for (const TracingRow& row : TracingRows()) {
    if (system == row.name) return &row;
  }
  return nullptr;
}

absl::StatusOr<std::shared_ptr<telemetry::Tracer>> BenchTracer(const TracingRow& row,
                                                               const std::string& url) {
  telemetry::TracingConfig c;
  c.enabled = true;
  c.protocol = telemetry::OtlpProtocol::kHttpProtobuf;
  c.endpoint = url;
  absl::StatusOr<telemetry::Sampler> sampler =
      row.sampling >= 1.0
          ? telemetry::Sampler::Parse("parentbased_always_on", "")
          : telemetry::Sampler::Parse("parentbased_traceidratio", std::to_string(row.sampling));
  if (!sampler.ok()) return sampler.status();
  c.sampler = *sampler;
  c.resource.attributes.push_back({"service.name", std::string("latentbus-bench-broker")});
  absl::StatusOr<std::unique_ptr<telemetry::Tracer>> tracer = telemetry::MakeTracer(c);
  if (!tracer.ok()) return tracer.status();
  return std::shared_ptr<telemetry::Tracer>(*std::move(tracer));
}

void AddTracerStats(telemetry::Tracer& tracer, nlohmann::json* extra) {
  auto* batch = dynamic_cast<telemetry::BatchSpanProcessor*>(&tracer.processor());
  if (batch == nullptr) return;
  const telemetry::BatchSpanProcessor::Stats s = batch->stats();
  (*extra)["spans_exported"] = s.exported;
  (*extra)["spans_dropped"] = s.dropped_queue_full + s.dropped_export_failed + s.dropped_shutdown;
}

void AddTracingRatios(const nlohmann::json& systems, nlohmann::json* ratios) {
  if (!systems.contains(kLatentbus)) return;
  const nlohmann::json& off = systems[kLatentbus];
  for (const TracingRow& row : TracingRows()) {
    if (!systems.contains(row.name)) continue;
    const nlohmann::json& on = systems[row.name];
    const std::string prefix = std::string(row.name) + "_vs_off";
    (*ratios)[prefix + "_p50"] = Ratio(on, off, "p50_us");
    (*ratios)[prefix + "_p99"] = Ratio(on, off, "p99_us");
    (*ratios)[prefix + "_msgs_per_s"] = Ratio(on, off, "msgs_per_s");
    (*ratios)[prefix + "_cpu"] = Ratio(on, off, "cpu_us_per_msg");
  }
}

nlohmann::json SummarizeTracing(const nlohmann::json& mode) {
  nlohmann::json out = nlohmann::json::object();
  const nlohmann::json& systems = mode["systems"];
  const nlohmann::json& ratios = mode["ratios"];
  for (const TracingRow& row : TracingRows()) {
    if (!systems.contains(row.name)) continue;
    const std::string prefix = std::string(row.name) + "_vs_off";
    const nlohmann::json& s = systems[row.name];
    out[row.name] = {{"sampling", row.sampling},
                     {"vs_off_p50", ratios.value(prefix + "_p50", 0.0)},
                     {"vs_off_p99", ratios.value(prefix + "_p99", 0.0)},
                     {"vs_off_msgs_per_s", ratios.value(prefix + "_msgs_per_s", 0.0)},
                     {"vs_off_cpu", ratios.value(prefix + "_cpu", 0.0)},
                     {"spans_exported", s.value("spans_exported", uint64_t{0})},
                     {"spans_dropped", s.value("spans_dropped", uint64_t{0})}};
  }
  return out;
}

}  // namespace latentbus::bench
