// The exporting SpanProcessor: ended spans wait in a bounded queue and one background
// thread encodes them as OTLP and exports them in batches.
//
// Bounds (each with its OTEL_BSP_* variable, see telemetry/config.h): at most
// `max_queue_spans` spans and `max_queue_bytes` bytes (SpanData::ApproxBytes) wait; a span
// that would pass either is dropped at once and counted (kQueueFull), so OnEnd never
// waits for the exporter: it takes one short lock and moves the span in. A batch is sent
// when `max_batch_spans` spans wait or `schedule_delay` has passed since the last one;
// an export that fails drops its spans (kExportFailed), with no retry. Shutdown exports
// what waits, then stops the thread.
//
// Thread safety: every method is safe for concurrent use. The observer is called from
// OnEnd's thread (drops) and from the worker (exports); it must not call back in.
#ifndef LATENTBUS_TELEMETRY_BATCH_PROCESSOR_H_
#define LATENTBUS_TELEMETRY_BATCH_PROCESSOR_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "telemetry/otlp_encoder.h"
#include "telemetry/span_exporter.h"
#include "telemetry/span_processor.h"

namespace latentbus::telemetry {

struct BatchOptions {
  size_t max_queue_spans = 2048;                      // OTEL_BSP_MAX_QUEUE_SIZE
  size_t max_queue_bytes = size_t{8} << 20;           // (latentbus) LATENTBUS_OTEL_MAX_QUEUE_BYTES
  size_t max_batch_spans = 512;                       // OTEL_BSP_MAX_EXPORT_BATCH_SIZE
  absl::Duration schedule_delay = absl::Seconds(5);   // OTEL_BSP_SCHEDULE_DELAY (ms)
  absl::Duration export_timeout = absl::Seconds(10);  // OTEL_EXPORTER_OTLP_TIMEOUT (ms)
};

class BatchSpanProcessor final : public SpanProcessor {
 public:
  struct Stats {
    uint64_t queued = 0;  // waiting now
    uint64_t exported = 0;
    uint64_t dropped_queue_full = 0;
    uint64_t dropped_export_failed = 0;
    uint64_t dropped_shutdown = 0;
    uint64_t exports = 0;  // requests sent (failed ones included)
  };

  BatchSpanProcessor(std::unique_ptr<SpanExporter> exporter, Resource resource,
                     BatchOptions options);
  ~BatchSpanProcessor() override;  // Shutdown(export_timeout)

  void OnEnd(SpanData span) override;
  bool ForceFlush(absl::Duration timeout) override;
  void Shutdown(absl::Duration timeout) override;

  void SetObserver(ExportObserver observer) override;
  Stats stats() const;

 private:
  void WorkerLoop();
  bool Ready() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Export(std::vector<SpanData> spans);
  void Dropped(DropReason reason, uint64_t n);

  const std::unique_ptr<SpanExporter> exporter_;
  const Resource resource_;
  const BatchOptions options_;

  mutable absl::Mutex mu_;
  std::vector<SpanData> queue_ ABSL_GUARDED_BY(mu_);
  size_t queue_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t flush_requested_ ABSL_GUARDED_BY(mu_) = 0;  // generation asked for
  uint64_t flush_done_ ABSL_GUARDED_BY(mu_) = 0;       // generation the worker finished
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;          // Shutdown completed

  absl::Mutex observer_mu_;
  ExportObserver observer_ ABSL_GUARDED_BY(observer_mu_);

  std::atomic<uint64_t> exported_{0}, dropped_full_{0}, dropped_export_{0}, dropped_shutdown_{0},
      exports_{0};
  std::thread worker_;
};

}  // namespace latentbus::telemetry

#endif  // LATENTBUS_TELEMETRY_BATCH_PROCESSOR_H_
