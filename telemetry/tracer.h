// Spans: the Tracer starts them (deciding with its Sampler which are recorded), a Span
// collects its attributes and hands itself to the Tracer's SpanProcessor when it ends.
//
//   telemetry::Span send = telemetry::StartSpan(tracer, "latentbus.agent.send",
//                                               parent, telemetry::SpanKind::kProducer);
//   telemetry::Span prefill = send.StartChild("latentbus.agent.prefill");
//   ...
//   prefill.End();
//   envelope.set_traceparent(send.Traceparent());
//
// Cost: with no tracer (tracing off) StartSpan returns an empty Span and every call on it
// returns at once: no allocation, no clock read. A span that is not sampled has ids for
// propagation (its context, flags 00) but records nothing and allocates nothing; only a
// sampled span allocates (its SpanData) and reads the clock.
//
// Children of a local span inherit its decision; a span started under a remote parent
// (a parsed traceparent) or as a root asks the sampler.
//
// Thread safety: Tracer is safe for concurrent use. A Span is a value owned by one
// thread at a time (move it to hand it on); it ends at End() or on destruction.
#ifndef LATENTBUS_TELEMETRY_TRACER_H_
#define LATENTBUS_TELEMETRY_TRACER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "telemetry/sampler.h"
#include "telemetry/span_data.h"
#include "telemetry/span_processor.h"
#include "telemetry/trace_context.h"

namespace latentbus::telemetry {

class Span;

class Tracer {
 public:
  Tracer(Sampler sampler, std::unique_ptr<SpanProcessor> processor);
  ~Tracer();  // Shutdown(5 s)

  // A new span under `parent` (a remote or local context; invalid: a new trace).
  Span StartSpan(absl::string_view name, const SpanContext& parent,
                 SpanKind kind = SpanKind::kInternal, absl::Time start = absl::InfinitePast());

  const Sampler& sampler() const { return sampler_; }
  SpanProcessor& processor() { return *processor_; }

  bool ForceFlush(absl::Duration timeout) { return processor_->ForceFlush(timeout); }
  void Shutdown(absl::Duration timeout) { processor_->Shutdown(timeout); }

 private:
  friend class Span;
  Span Start(absl::string_view name, const SpanContext& parent, bool sampled, SpanKind kind,
             absl::Time start);

  const Sampler sampler_;
  const std::unique_ptr<SpanProcessor> processor_;
};

// `tracer`->StartSpan, or an empty Span when `tracer` is null (tracing off).
Span StartSpan(Tracer* tracer, absl::string_view name, const SpanContext& parent,
               SpanKind kind = SpanKind::kInternal, absl::Time start = absl::InfinitePast());

class Span {
 public:
  Span() = default;  // empty: no context, records nothing
  ~Span() { End(); }
  Span(Span&& other) noexcept;
  Span& operator=(Span&& other) noexcept;
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;

  // Sampled and not ended: attributes are kept and the span will be exported.
  bool recording() const { return data_ != nullptr; }
  // Its context (valid unless empty): what a traceparent sent on its behalf carries.
  const SpanContext& context() const { return context_; }
  // The version-00 traceparent of context(); "" for an empty span.
  std::string Traceparent() const;

  // A child (same trace, this span as parent, same decision). `start` defaults to now.
  Span StartChild(absl::string_view name, SpanKind kind = SpanKind::kInternal,
                  absl::Time start = absl::InfinitePast()) const;

  // Attributes (no-ops unless recording). Names follow the OpenTelemetry semantic
  // conventions where one fits, else the `latentbus.` prefix.
  void SetString(absl::string_view key, absl::string_view value);
  void SetInt(absl::string_view key, int64_t value);
  void SetDouble(absl::string_view key, double value);
  void SetBool(absl::string_view key, bool value);
  // Status ERROR with `message`.
  void SetError(absl::string_view message);

  // Ends the span at `end` (default now) and hands it to the processor. Idempotent.
  void End(absl::Time end = absl::InfinitePast());

 private:
  friend class Tracer;
  Tracer* tracer_ = nullptr;
  SpanContext context_;
  std::unique_ptr<SpanData> data_;  // null unless recording
};

}  // namespace latentbus::telemetry

#endif  // LATENTBUS_TELEMETRY_TRACER_H_
