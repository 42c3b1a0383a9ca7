#include "telemetry/batch_processor.h"

#include <atomic>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace latentbus::telemetry {
namespace {

// Records what it was asked to export; can be held (a slow collector) or made to fail.
class FakeExporter final : public SpanExporter {
 public:
  absl::Status Export(const otlp::ExportTraceServiceRequest& request, absl::Duration) override {
    if (!entered.HasBeenNotified()) entered.Notify();  // one worker thread calls Export
    release.WaitForNotification();
    absl::MutexLock lock(&mu);
    for (const auto& rs : request.resource_spans()) {
      for (const auto& ss : rs.scope_spans()) {
        batches.push_back(ss.spans_size());
        for (const auto& s : ss.spans()) names.push_back(s.name());
      }
    }
    return fail ? absl::UnavailableError("collector down") : absl::OkStatus();
  }
  absl::Notification entered;
  absl::Notification release;
  absl::Mutex mu;
  std::vector<int> batches;
  std::vector<std::string> names;
  bool fail = false;
};

SpanData Span(const std::string& name, size_t attribute_bytes = 0) {
  SpanData d;
  d.context = SpanContext{NewTraceId(), NewSpanId(), 1, false};
  d.name = name;
  if (attribute_bytes > 0) d.attributes.push_back({"blob", std::string(attribute_bytes, 'x')});
  return d;
}

struct Counts {
  std::atomic<uint64_t> full{0}, failed{0}, exported{0};
};

ExportObserver Observe(Counts* c) {
  ExportObserver o;
  o.dropped = [c](DropReason r, uint64_t n) {
    (r == DropReason::kQueueFull ? c->full : c->failed) += n;
  };
  o.exported = [c](uint64_t n) { c->exported += n; };
  return o;
}

TEST(BatchProcessorTest, ExportsInBatchesOnFlushAndAtShutdown) {
  auto exporter = std::make_unique<FakeExporter>();
  FakeExporter* e = exporter.get();
  e->release.Notify();
  BatchOptions o;
  o.max_batch_spans = 3;
  o.schedule_delay = absl::Hours(1);  // only size, flush and shutdown send
  BatchSpanProcessor p(std::move(exporter), Resource{}, o);
  Counts counts;
  p.SetObserver(Observe(&counts));
  for (int i = 0; i < 7; ++i) p.OnEnd(Span("s" + std::to_string(i)));
  ASSERT_TRUE(p.ForceFlush(absl::Seconds(10)));
  EXPECT_EQ(p.stats().exported, 7u);
  EXPECT_EQ(counts.exported, 7u);
  {
    absl::MutexLock lock(&e->mu);
    for (int b : e->batches) EXPECT_LE(b, 3);
    EXPECT_EQ(e->names.size(), 7u);
  }
  p.OnEnd(Span("last"));
  p.Shutdown(absl::Seconds(10));
  EXPECT_EQ(p.stats().exported, 8u);
  absl::MutexLock lock(&e->mu);
  EXPECT_EQ(e->names.back(), "last");
}

// A collector that does not answer: the queue fills to its bound, every span beyond it
// is dropped and counted, and OnEnd never waits.
TEST(BatchProcessorTest, ABoundedQueueDropsAndCountsWhenTheCollectorStalls) {
  auto exporter = std::make_unique<FakeExporter>();
  FakeExporter* e = exporter.get();
  BatchOptions o;
  o.max_queue_spans = 10;
  o.max_batch_spans = 1;  // the worker takes the first span and blocks in Export
  o.schedule_delay = absl::Milliseconds(1);
  BatchSpanProcessor p(std::move(exporter), Resource{}, o);
  Counts counts;
  p.SetObserver(Observe(&counts));
  p.OnEnd(Span("first"));
  e->entered.WaitForNotification();  // the worker holds "first"; the queue is empty
  const absl::Time start = absl::Now();
  for (int i = 0; i < 100; ++i) p.OnEnd(Span("more"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));  // never waited for the exporter
  EXPECT_EQ(p.stats().queued, 10u);
  EXPECT_EQ(p.stats().dropped_queue_full, 90u);
  EXPECT_EQ(counts.full, 90u);
  e->release.Notify();
  p.Shutdown(absl::Seconds(10));
  EXPECT_EQ(p.stats().exported, 11u);
  EXPECT_EQ(counts.exported, 11u);
}

TEST(BatchProcessorTest, TheQueueIsBoundedInBytesToo) {
  auto exporter = std::make_unique<FakeExporter>();
  FakeExporter* e = exporter.get();
  BatchOptions o;
  o.max_queue_spans = 1000;
  o.max_queue_bytes = 64 * 1024;
  o.max_batch_spans = 1000;
  o.schedule_delay = absl::Hours(1);
  BatchSpanProcessor p(std::move(exporter), Resource{}, o);
  for (int i = 0; i < 20; ++i) p.OnEnd(Span("big", 10000));  // ~10 KiB each
  const BatchSpanProcessor::Stats s = p.stats();
  EXPECT_GE(s.queued, 5u);
  EXPECT_LE(s.queued, 6u);
  EXPECT_EQ(s.queued + s.dropped_queue_full, 20u);
  e->release.Notify();
  p.Shutdown(absl::Seconds(10));
  EXPECT_EQ(p.stats().exported, s.queued);
}

TEST(BatchProcessorTest, AFailedExportDropsItsSpansAndCountsThem) {
  auto exporter = std::make_unique<FakeExporter>();
  exporter->fail = true;
  exporter->release.Notify();
  BatchSpanProcessor p(std::move(exporter), Resource{}, BatchOptions{});
  Counts counts;
  p.SetObserver(Observe(&counts));
  for (int i = 0; i < 4; ++i) p.OnEnd(Span("s"));
  p.ForceFlush(absl::Seconds(10));
  EXPECT_EQ(p.stats().dropped_export_failed, 4u);
  EXPECT_EQ(counts.failed, 4u);
  EXPECT_EQ(p.stats().exported, 0u);
  EXPECT_EQ(p.stats().exports, 1u);
}

TEST(BatchProcessorTest, SpansAfterShutdownAreDropped) {
  auto exporter = std::make_unique<FakeExporter>();
  exporter->release.Notify();
  BatchSpanProcessor p(std::move(exporter), Resource{}, BatchOptions{});
  p.Shutdown(absl::Seconds(10));
  p.Shutdown(absl::Seconds(10));  // idempotent
  p.OnEnd(Span("late"));
  EXPECT_EQ(p.stats().dropped_shutdown, 1u);
  EXPECT_TRUE(p.ForceFlush(absl::Seconds(1)));
}

}  // namespace
}  // namespace latentbus::telemetry
