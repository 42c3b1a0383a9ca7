#include "telemetry/batch_processor.h"

#include <algorithm>
#include <utility>

#include "absl/time/clock.h"
#include "spdlog/spdlog.h"

namespace latentbus::telemetry {

const char* DropReasonName(DropReason reason) {
  switch (reason) {
    case DropReason::kQueueFull:
      return "queue_full";
    case DropReason::kExportFailed:
      return "export_failed";
    case DropReason::kShutdown:
      return "shutdown";
  }
  return "unknown";
}

BatchSpanProcessor::BatchSpanProcessor(std::unique_ptr<SpanExporter> exporter, Resource resource,
                                       BatchOptions options)
    : exporter_(std::move(exporter)), resource_(std::move(resource)), options_(options) {
  worker_ = std::thread([this] { WorkerLoop(); });
}

BatchSpanProcessor::~BatchSpanProcessor() { Shutdown(options_.export_timeout); }

void BatchSpanProcessor::SetObserver(ExportObserver observer) {
  absl::MutexLock lock(&observer_mu_);
  observer_ = std::move(observer);
}

void BatchSpanProcessor::Dropped(DropReason reason, uint64_t n) {
  if (n == 0) return;
  switch (reason) {
    case DropReason::kQueueFull:
      dropped_full_ += n;
      break;
    case DropReason::kExportFailed:
      dropped_export_ += n;
      break;
    case DropReason::kShutdown:
      dropped_shutdown_ += n;
      break;
  }
  absl::MutexLock lock(&observer_mu_);
  if (observer_.dropped) observer_.dropped(reason, n);
}

void BatchSpanProcessor::OnEnd(SpanData span) {
  const size_t bytes = span.ApproxBytes();
  DropReason reason = DropReason::kQueueFull;
  {
    absl::MutexLock lock(&mu_);
    if (!stop_ && queue_.size() < options_.max_queue_spans &&
        queue_bytes_ + bytes <= options_.max_queue_bytes) {
      queue_.push_back(std::move(span));
      queue_bytes_ += bytes;
      return;  // the worker wakes on its own condition (Ready)
    }
    if (stop_) reason = DropReason::kShutdown;
  }
  Dropped(reason, 1);
}

bool BatchSpanProcessor::Ready() const {
  return stop_ || flush_requested_ != flush_done_ || queue_.size() >= options_.max_batch_spans;
}

void BatchSpanProcessor::WorkerLoop() {
  for (;;) {
    std::vector<SpanData> batch;
    uint64_t flush_generation = 0;
    bool stop = false;
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(this, &BatchSpanProcessor::Ready),
                           options_.schedule_delay);
      batch.swap(queue_);
      queue_bytes_ = 0;
      flush_generation = flush_requested_;
      stop = stop_;
    }
    for (size_t first = 0; first < batch.size(); first += options_.max_batch_spans) {
      const size_t last = std::min(batch.size(), first + options_.max_batch_spans);
      std::vector<SpanData> part(std::make_move_iterator(batch.begin() + first),
                                 std::make_move_iterator(batch.begin() + last));
      Export(std::move(part));
    }
    absl::MutexLock lock(&mu_);
    flush_done_ = std::max(flush_done_, flush_generation);
    if (stop && queue_.empty()) return;
  }
}

void BatchSpanProcessor::Export(std::vector<SpanData> spans) {
  const auto request = EncodeSpans(resource_, spans.data(), spans.size());
  ++exports_;
  absl::Status s = exporter_->Export(request, options_.export_timeout);
  if (!s.ok()) {
    // Once per failure streak would be kinder to logs; a collector that is down fails
    // every batch, and one line per batch (5 s apart by default) stays readable.
    spdlog::warn("tracing: export of {} span(s) failed: {}", spans.size(), s.ToString());
    Dropped(DropReason::kExportFailed, spans.size());
    return;
  }
  exported_ += spans.size();
  absl::MutexLock lock(&observer_mu_);
  if (observer_.exported) observer_.exported(spans.size());
}

bool BatchSpanProcessor::ForceFlush(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  if (stopped_) return true;
  const uint64_t generation = ++flush_requested_;
  auto done = [this, generation]()
                  ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return flush_done_ >= generation; };
  return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
}

void BatchSpanProcessor::Shutdown(absl::Duration timeout) {
  {
    absl::MutexLock lock(&mu_);
    if (stopped_ || stop_) {
      // Another Shutdown is under way or done: wait for it (bounded).
      mu_.AwaitWithTimeout(absl::Condition(&stopped_), timeout);
      return;
    }
    stop_ = true;
  }
  // The worker exports what waits and returns; an export in flight is bounded by the
  // exporter's own timeout.
  (void)timeout;
  if (worker_.joinable()) worker_.join();
  absl::MutexLock lock(&mu_);
  stopped_ = true;
}

BatchSpanProcessor::Stats BatchSpanProcessor::stats() const {
  Stats s;
  {
    absl::MutexLock lock(&mu_);
    s.queued = queue_.size();
  }
  s.exported = exported_.load();
  s.dropped_queue_full = dropped_full_.load();
  s.dropped_export_failed = dropped_export_.load();
  s.dropped_shutdown = dropped_shutdown_.load();
  s.exports = exports_.load();
  return s;
}

}  // namespace latentbus::telemetry
