// In-process metrics: counters, gauges and histograms with labels, rendered in the
// Prometheus text format (served at /metrics by broker/metrics_http.h) and as flat maps
// for the GetStats RPC. A series is named like Prometheus does:
// `latentbus_rejects_total{reason="QUEUE_FULL"}`.
//
// Metric names used by the broker (all prefixed latentbus_):
//   counters  messages_total{class,encoding}   accepted envelopes (encoding "text" when
//                                              the envelope carries no latent)
//             deliveries_total{form}           envelopes handed to a recipient's stream
//             translations_total{result}       latent translations (ok / error)
//             fallbacks_total{reason}          latent envelopes delivered as text, by reason
//             rejects_total{reason}            refusals by ErrorReason name
//             duplicates_total                 envelopes dropped by deduplication
//             redeliveries_total               deliveries with delivery_attempt > 1
//             trace_spans_exported_total       spans sent to the OTLP endpoint (tracing on)
//             trace_spans_dropped_total{reason} spans lost: queue_full (the export queue
//                                              was at its bound), export_failed, shutdown
//   gauges    connected_agents, bridges_loaded, queue_depth{agent}, unacked{agent}
//             (collected at scrape time), process_resident_bytes
//   histograms residence_seconds (accepted -> handed to the recipient's stream),
//             translation_seconds (one batch through Translator::Translate)
//
// Thread safety: every method is safe for concurrent use. Collectors run outside the
// internal lock and may call back into Metrics.
#ifndef LATENTBUS_BROKER_METRICS_H_
#define LATENTBUS_BROKER_METRICS_H_

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace latentbus::broker {

using Labels = std::vector<std::pair<std::string, std::string>>;

// `name{k="v",...}` with label values escaped as Prometheus requires.
std::string SeriesName(absl::string_view name, const Labels& labels);

class Metrics {
 public:
  struct GaugeSample {
    std::string name;
    Labels labels;
    double value;
  };
  using Collector = std::function<std::vector<GaugeSample>()>;

  void Increment(absl::string_view name, const Labels& labels = {}, double delta = 1);
  void SetGauge(absl::string_view name, const Labels& labels, double value);
  // Adds `value` (seconds) to a histogram with exponential buckets 50us .. ~100s.
  void Observe(absl::string_view name, double value);
  // Gauges computed at read time (queue depths, ...).
  void AddCollector(Collector collector);

  double CounterValue(absl::string_view name, const Labels& labels = {}) const;

  // Counters, plus histogram _count and _sum series, keyed by series name.
  std::map<std::string, double> Counters() const;
  // Set gauges and collected ones.
  std::map<std::string, double> Gauges() const;
  std::string RenderPrometheus() const;

 private:
  struct Histogram {
    std::vector<uint64_t> buckets;  // cumulative on render, per-bucket here
    uint64_t count = 0;
    double sum = 0;
  };
  std::vector<GaugeSample> Collect() const;

  mutable absl::Mutex mu_;
  // name -> series name -> value
  std::map<std::string, std::map<std::string, double>> counters_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::map<std::string, double>> gauges_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Histogram> histograms_ ABSL_GUARDED_BY(mu_);
  std::vector<Collector> collectors_ ABSL_GUARDED_BY(mu_);
};

// VmRSS of this process in bytes from /proc/self/status (0 when unavailable).
double ResidentBytes();

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_METRICS_H_
