// The spans of one delivery, shared by every DeliveryLayer: when the broker recorded the
// message (its send span is sampled: QueuedMessage::trace), handing it to a recipient's
// stream records
//   latentbus.broker.queue_wait  accepted -> handed to the stream
//   latentbus.broker.deliver     handing it to the stream (serialized into the stream's
//                                write queue; the network write follows)
// both children of the broker's send span, and points the delivered envelope's
// traceparent at the deliver span, so the receiver's spans hang under this hop. A
// message the broker did not record is delivered with its traceparent untouched and
// costs one branch.
//
// Thread safety: a DeliveryTrace is used by one thread; the tracer is thread-safe.
#ifndef LATENTBUS_BROKER_DELIVERY_TRACE_H_
#define LATENTBUS_BROKER_DELIVERY_TRACE_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "latentbus/v1/envelope.pb.h"
#include "telemetry/tracer.h"

namespace latentbus::broker {

class DeliveryTrace {
 public:
  // Starts the deliver span (and records the queue wait) when `tracer` is set and
  // `broker_span` is sampled, rewriting `delivered`'s traceparent; else does nothing.
  DeliveryTrace(telemetry::Tracer* tracer, const telemetry::SpanContext& broker_span,
                absl::Time accepted_at, absl::string_view recipient, v1::Envelope* delivered);

  // The stream refused the frame (it is ending; the message is delivered again later).
  void Failed(absl::string_view why) { deliver_.SetError(why); }

 private:
  telemetry::Span deliver_;  // ends with this object
};

// The broker's send span of a stored message, from the value a delivery layer keeps
// with it (TraceHeader): invalid when the broker did not record the message.
telemetry::SpanContext ParseTraceHeader(absl::string_view value);
// The value to keep with a stored message for `broker_span` ("" when not sampled).
std::string TraceHeader(const telemetry::SpanContext& broker_span);

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_DELIVERY_TRACE_H_
