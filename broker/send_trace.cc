#include "broker/send_trace.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "broker/errors.h"
#include "broker/policy.h"

namespace latentbus::broker {

std::shared_ptr<SendTrace> SendTrace::Start(telemetry::Tracer* tracer, const std::string& sender_id,
                                            v1::Envelope* envelope, absl::Time now) {
  if (tracer == nullptr) return nullptr;
  std::optional<telemetry::SpanContext> parent =
      telemetry::ParseTraceparent(envelope->traceparent());
  telemetry::Span send =
      tracer->StartSpan("latentbus.broker.send", parent.value_or(telemetry::SpanContext{}),
                        telemetry::SpanKind::kServer, now);
  if (!parent.has_value()) envelope->set_traceparent(send.Traceparent());
  if (!send.recording()) return nullptr;
  auto trace = std::make_shared<SendTrace>();
  send.SetString("messaging.system", "latentbus");
  send.SetString("messaging.operation.type", "process");
  send.SetString("messaging.message.id", envelope->message_id());
  const v1::Address& to = envelope->recipient();
  send.SetString("messaging.destination.name", to.has_topic() ? to.topic() : to.agent_id());
  send.SetString("latentbus.sender", sender_id);
  send.SetString("latentbus.message.class", MessageClassName(envelope->message_class()));
  const bool latent = envelope->has_latent(), text = !envelope->text().empty();
  send.SetString("latentbus.form", latent && text ? "latent+text" : latent ? "latent" : "text");
  if (latent) {
    send.SetInt("latentbus.latent.bytes", static_cast<int64_t>(envelope->latent().ByteSizeLong()));
    send.SetInt("latentbus.latent.rows", envelope->latent().shape_size() > 0
                                             ? static_cast<int64_t>(envelope->latent().shape(0))
                                             : 0);
  }
  if (text) send.SetInt("latentbus.text.bytes", static_cast<int64_t>(envelope->text().size()));
  if (!envelope->correlation_id().empty()) send.SetBool("latentbus.reply", true);
  trace->phase_ = send.StartChild("latentbus.broker.validate", telemetry::SpanKind::kInternal, now);
  trace->send_ = std::move(send);
  return trace;
}

void SendTrace::Validated() {
  phase_.End();
  phase_ = send_.StartChild("latentbus.broker.route");
}

void SendTrace::Routed(size_t recipients) {
  phase_.SetInt("latentbus.recipients", static_cast<int64_t>(recipients));
  phase_.End();
}

std::shared_ptr<telemetry::Span> SendTrace::StartTranslate(const std::string& recipient,
                                                           const std::string& bridge_id,
                                                           const std::string& encoding) {
  auto span = std::make_shared<telemetry::Span>(send_.StartChild("latentbus.broker.translate"));
  span->SetString("latentbus.recipient", recipient);
  span->SetString("latentbus.bridge.id", bridge_id);
  span->SetString("latentbus.encoding", encoding);
  return span;
}

void SendTrace::Finish(const SendOutcome& outcome) {
  if (!outcome.refused.ok()) {
    const std::string reason = ReasonName(ReasonOf(outcome.refused));
    phase_.SetString("latentbus.outcome", reason);
    phase_.SetError(outcome.refused.message());
    phase_.End();
    send_.SetString("latentbus.outcome", reason);
    send_.SetError(outcome.refused.message());
  } else {
    size_t latent = 0, text = 0;
    for (const v1::RecipientOutcome& r : outcome.accepted) {
      (r.form() == v1::PAYLOAD_FORM_LATENT ? latent : text) += 1;
    }
    send_.SetString("latentbus.outcome", outcome.errors.empty() ? "accepted" : "partial");
    send_.SetInt("latentbus.recipients.latent", static_cast<int64_t>(latent));
    send_.SetInt("latentbus.recipients.text", static_cast<int64_t>(text));
    if (!outcome.errors.empty()) {
      send_.SetError(
          absl::StrCat(ReasonName(outcome.errors[0].reason()), ": ", outcome.errors[0].detail()));
    }
  }
  send_.End();
}

Router::Done SendTrace::Wrap(std::shared_ptr<SendTrace> trace, Router::Done done) {
  if (!trace) return done;
  return [trace = std::move(trace), done = std::move(done)](SendOutcome outcome) {
    trace->Finish(outcome);
    done(std::move(outcome));
  };
}

}  // namespace latentbus::broker
