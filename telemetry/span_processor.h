// Where finished spans go: the Tracer hands each recorded span to its processor when the
// span ends (telemetry/batch_processor.h exports them; tests collect them).
//
// Thread safety: implementations are safe for concurrent use. OnEnd runs on the thread
// that ended the span, often a latency-critical one: it must not block on I/O.
#ifndef LATENTBUS_TELEMETRY_SPAN_PROCESSOR_H_
#define LATENTBUS_TELEMETRY_SPAN_PROCESSOR_H_

#include <cstdint>
#include <functional>

#include "absl/time/time.h"
#include "telemetry/span_data.h"

namespace latentbus::telemetry {

enum class DropReason { kQueueFull, kExportFailed, kShutdown };
const char* DropReasonName(DropReason reason);  // "queue_full", "export_failed", "shutdown"

// Told what happened to spans (counters for the process's metrics). Called from the
// thread that ended a span (drops) and from an exporting thread; must not call back into
// the processor.
struct ExportObserver {
  std::function<void(DropReason reason, uint64_t spans)> dropped;
  std::function<void(uint64_t spans)> exported;
};

class SpanProcessor {
 public:
  virtual ~SpanProcessor() = default;
  virtual void OnEnd(SpanData span) = 0;
  // Exports what was ended so far; false when that did not finish within `timeout`.
  virtual bool ForceFlush(absl::Duration timeout) = 0;
  // Flushes, then stops; spans ended afterwards are dropped. Idempotent.
  virtual void Shutdown(absl::Duration timeout) = 0;
  // Replaces the observer (empty: none). Processors that drop nothing may ignore it.
  virtual void SetObserver(ExportObserver observer) { (void)observer; }
};

}  // namespace latentbus::telemetry

#endif  // LATENTBUS_TELEMETRY_SPAN_PROCESSOR_H_
