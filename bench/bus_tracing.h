// `latentbus bench bus --tracing`: the in-process broker of the latentbus row again, with
// tracing on, at 1% (parentbased_traceidratio 0.01) and 100% (parentbased_always_on)
// sampling, exporting OTLP/HTTP with the default batch settings to an OtlpSink in this
// process (bench/otlp_sink.h). The simulated agents send no traceparent, so the broker
// starts every trace and its sampler decides. The cost of tracing is the ratio of each row
// to the latentbus row (tracing off) of the same run.
//
// JSON (bench/bus_bench.h): rows "latentbus_trace1" and "latentbus_trace100" with
// "sampling", "spans_exported", "spans_dropped", "otlp_requests", "otlp_bytes"; per mode
// ratios "<row>_vs_off_p50", "_p99", "_msgs_per_s", "_cpu"; at the top level "tracing":
// {row: {"sampling", "vs_off_p50", "vs_off_p99", "vs_off_msgs_per_s", "vs_off_cpu",
// "spans_exported", "spans_dropped"}} for the first mode.
#ifndef LATENTBUS_BENCH_BUS_TRACING_H_
#define LATENTBUS_BENCH_BUS_TRACING_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "telemetry/tracer.h"

namespace latentbus::bench {

inline constexpr char kLatentbusTrace1[] = "latentbus_trace1";
inline constexpr char kLatentbusTrace100[] = "latentbus_trace100";

struct TracingRow {
  const char* name;  // system name in the JSON
  double sampling;   // share of traces recorded
  const char* label;
};

// The two rows, in run order.
const std::vector<TracingRow>& TracingRows();
// The row named `system`; null for any other system.
const TracingRow* FindTracingRow(const std::string& system);

// The broker's tracer for `row`, exporting OTLP/HTTP protobuf to `url`.
absl::StatusOr<std::shared_ptr<telemetry::Tracer>> BenchTracer(const TracingRow& row,
                                                               const std::string& url);

// Adds "spans_exported" and "spans_dropped" of `tracer` (shut down) to `extra`.
void AddTracerStats(telemetry::Tracer& tracer, nlohmann::json* extra);

// The per-mode ratios of the rows in `systems` to the latentbus row.
void AddTracingRatios(const nlohmann::json& systems, nlohmann::json* ratios);

// The top-level "tracing" summary of one mode (empty object when no row ran).
nlohmann::json SummarizeTracing(const nlohmann::json& mode);

}  // namespace latentbus::bench

#endif  // LATENTBUS_BENCH_BUS_TRACING_H_
