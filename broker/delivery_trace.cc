#include "broker/delivery_trace.h"

#include <optional>

#include "absl/time/clock.h"
#include "broker/delivery.h"

namespace latentbus::broker {

DeliveryTrace::DeliveryTrace(telemetry::Tracer* tracer, const telemetry::SpanContext& broker_span,
                             absl::Time accepted_at, absl::string_view recipient,
                             v1::Envelope* delivered) {
  if (tracer == nullptr || !broker_span.sampled()) return;
  const absl::Time now = absl::Now();
  // Children of a local span: the broker's own decision (sampled) carries over.
  telemetry::SpanContext parent = broker_span;
  parent.remote = false;
  telemetry::Span wait = tracer->StartSpan("latentbus.broker.queue_wait", parent,
                                           telemetry::SpanKind::kInternal, accepted_at);
  wait.SetString("latentbus.recipient", recipient);
  wait.SetInt("latentbus.delivery.attempt", delivered->delivery_attempt());
  wait.End(now);
  deliver_ =
      tracer->StartSpan("latentbus.broker.deliver", parent, telemetry::SpanKind::kProducer, now);
  deliver_.SetString("latentbus.recipient", recipient);
  deliver_.SetString("messaging.message.id", delivered->message_id());
  deliver_.SetString("latentbus.form", FormName(delivered->delivered_form()));
  deliver_.SetInt("latentbus.delivery.attempt", delivered->delivery_attempt());
  if (delivered->has_latent()) {
    deliver_.SetInt("latentbus.latent.bytes",
                    static_cast<int64_t>(delivered->latent().ByteSizeLong()));
  } else {
    deliver_.SetInt("latentbus.text.bytes", static_cast<int64_t>(delivered->text().size()));
  }
  delivered->set_traceparent(deliver_.Traceparent());
}

telemetry::SpanContext ParseTraceHeader(absl::string_view value) {
  std::optional<telemetry::SpanContext> c = telemetry::ParseTraceparent(value);
  return c.has_value() ? *c : telemetry::SpanContext{};
}

std::string TraceHeader(const telemetry::SpanContext& broker_span) {
  return broker_span.sampled() && broker_span.valid() ? telemetry::FormatTraceparent(broker_span)
                                                      : std::string();
}

}  // namespace latentbus::broker
