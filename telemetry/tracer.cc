#include "telemetry/tracer.h"

#include <utility>

#include "absl/time/clock.h"

namespace latentbus::telemetry {
namespace {

int64_t UnixNanos(absl::Time t) {
  return absl::ToUnixNanos(t == absl::InfinitePast() ? absl::Now() : t);
}

}  // namespace

Tracer::Tracer(Sampler sampler, std::unique_ptr<SpanProcessor> processor)
    : sampler_(sampler), processor_(std::move(processor)) {}

Tracer::~Tracer() { processor_->Shutdown(absl::Seconds(5)); }

Span Tracer::StartSpan(absl::string_view name, const SpanContext& parent, SpanKind kind,
                       absl::Time start) {
  const TraceId trace_id = parent.valid() ? parent.trace_id : NewTraceId();
  SpanContext p = parent;
  if (!p.valid()) p = SpanContext{trace_id, SpanId{}, 0, false};
  return Start(name, p, sampler_.ShouldSample(parent, trace_id), kind, start);
}

Span Tracer::Start(absl::string_view name, const SpanContext& parent, bool sampled, SpanKind kind,
                   absl::Time start) {
  Span span;
  span.tracer_ = this;
  span.context_.trace_id = parent.trace_id;
  span.context_.span_id = NewSpanId();
  span.context_.flags =
      static_cast<uint8_t>((parent.flags & ~kSampledFlag) | (sampled ? kSampledFlag : 0));
  if (!sampled) return span;
  span.data_ = std::make_unique<SpanData>();
  SpanData& d = *span.data_;
  d.context = span.context_;
  d.parent_span_id = parent.span_id;
  d.parent_remote = parent.remote;
  d.name = std::string(name);
  d.kind = kind;
  d.start_unix_nanos = UnixNanos(start);
  return span;
}

Span StartSpan(Tracer* tracer, absl::string_view name, const SpanContext& parent, SpanKind kind,
               absl::Time start) {
  if (tracer == nullptr) return Span();
  return tracer->StartSpan(name, parent, kind, start);
}

Span::Span(Span&& other) noexcept
    : tracer_(std::exchange(other.tracer_, nullptr)),
      context_(std::exchange(other.context_, SpanContext{})),
      data_(std::move(other.data_)) {}

Span& Span::operator=(Span&& other) noexcept {
  if (this != &other) {
    End();
    tracer_ = std::exchange(other.tracer_, nullptr);
    context_ = std::exchange(other.context_, SpanContext{});
    data_ = std::move(other.data_);
  }
  return *this;
}

std::string Span::Traceparent() const {
  return context_.valid() ? FormatTraceparent(context_) : std::string();
}

Span Span::StartChild(absl::string_view name, SpanKind kind, absl::Time start) const {
  if (tracer_ == nullptr) return Span();
  SpanContext parent = context_;
  parent.remote = false;
  return tracer_->Start(name, parent, context_.sampled(), kind, start);
}

void Span::SetString(absl::string_view key, absl::string_view value) {
  if (data_) data_->attributes.push_back({std::string(key), std::string(value)});
}

void Span::SetInt(absl::string_view key, int64_t value) {
  if (data_) data_->attributes.push_back({std::string(key), value});
}

void Span::SetDouble(absl::string_view key, double value) {
  if (data_) data_->attributes.push_back({std::string(key), value});
}

void Span::SetBool(absl::string_view key, bool value) {
  if (data_) data_->attributes.push_back({std::string(key), value});
}

void Span::SetError(absl::string_view message) {
  if (!data_) return;
  data_->error = true;
  data_->error_message = std::string(message);
}

void Span::End(absl::Time end) {
  if (!data_) return;
  std::unique_ptr<SpanData> d = std::move(data_);
  d->end_unix_nanos = UnixNanos(end);
  if (d->end_unix_nanos < d->start_unix_nanos) d->end_unix_nanos = d->start_unix_nanos;
  tracer_->processor_->OnEnd(std::move(*d));
}

}  // namespace latentbus::telemetry
