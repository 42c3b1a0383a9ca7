// The broker's spans of one routed message, all in the message's trace:
//   latentbus.broker.send       SERVER, parent: the envelope's traceparent (a new trace
//                               when it has none); from Router::Send to the last
//                               recipient's outcome; outcome and size attributes
//     latentbus.broker.validate envelope and latent checks, rate limit, deadline
//     latentbus.broker.route    reply resolution, recipients, policy per recipient
//     latentbus.broker.translate one per latent recipient: queued in the translation pool,
//                               bridge, re-encoding in the receiver's encoding
//   (queue_wait and deliver follow in the delivery layer: broker/delivery_trace.h)
// A message without a valid traceparent gets one here (this span's context, sampled or
// not), so every receiver joins the broker's sampling decision.
//
// Thread safety: Start, Validated, Routed and StartTranslate run on the routing thread
// before any recipient can finish; the wrapped `done` (the end) runs once, on whichever
// thread finishes last.
#ifndef LATENTBUS_BROKER_SEND_TRACE_H_
#define LATENTBUS_BROKER_SEND_TRACE_H_

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "broker/router.h"
#include "latentbus/v1/envelope.pb.h"
#include "telemetry/tracer.h"

namespace latentbus::broker {

class SendTrace {
 public:
  // Null unless `tracer` is set and the message is sampled (the traceparent of an
  // envelope without one is set either way when `tracer` is set).
  static std::shared_ptr<SendTrace> Start(telemetry::Tracer* tracer, const std::string& sender_id,
                                          v1::Envelope* envelope, absl::Time now);

  // The validate phase passed: route begins.
  void Validated();
  // The route phase passed: the message is accepted.
  void Routed(size_t recipients);

  const telemetry::SpanContext& context() const { return send_.context(); }

  // A translate span for `recipient`, shared so that it can ride in a copyable callback.
  std::shared_ptr<telemetry::Span> StartTranslate(const std::string& recipient,
                                                  const std::string& bridge_id,
                                                  const std::string& encoding);

  // `done`, preceded by ending the spans with `outcome`.
  static Router::Done Wrap(std::shared_ptr<SendTrace> trace, Router::Done done);

 private:
  void Finish(const SendOutcome& outcome);

  telemetry::Span send_;
  telemetry::Span phase_;  // validate, then route
};

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_SEND_TRACE_H_
