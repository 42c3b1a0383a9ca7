// The delivery layer: where a routed envelope goes to be queued, delivered, acked and
// redelivered. Routing, policy and translation only see this interface, so the
// in-memory implementation (broker/in_memory_delivery.h) can be replaced by a durable
// one (NATS JetStream) without touching them.
//
// Contract for every implementation:
// - Per-recipient queues, bounded: queued + delivered-but-unacked <= max_queue_depth
//   messages and <= max_queue_bytes bytes, and all recipients together <= max_total_bytes;
//   Enqueue beyond that fails with QUEUE_FULL and stores nothing (never a silent drop).
// - Retention: the state of a recipient without a session (its queue, unacked
//   deliveries, dedup window) is released once it has been absent for the retention
//   period (ReleaseAbsent; counted, never silent).
// - Deduplication by (sender_id, message_id) per recipient: a pair accepted before (and
//   still within the dedup window) is refused with ALREADY_EXISTS and stored once.
// - Flow control: a recipient's session receives a Deliver frame only while it has
//   delivery credits (one per Deliver; Attach grants the initial ones, AddCredits more,
//   and each ack of the session's own deliveries one when AcksReturnCredits()) and is not
//   Backlogged() (frames it has not written yet; Resume when it has).
// - Deliver frames carry delivery_seq 1, 2, 3, ... per attached session, in the order
//   pushed; AckThrough acks a prefix of them.
// - At-least-once within the broker's lifetime: a delivery stays unacked until Ack; when
//   the session detaches (stream ended) or is replaced, unacked deliveries go back to
//   the front of the queue and are delivered again (delivery_attempt + 1) to the next
//   session for that recipient.
// - Deadlines: Expire removes a message that was never delivered; the caller reports
//   DEADLINE_EXCEEDED to the sender.
//
// Thread safety: implementations are safe for concurrent use; they may call
// AgentSession::Push while holding internal locks, so sessions must not call back into
// the delivery layer from Push.
#ifndef LATENTBUS_BROKER_DELIVERY_H_
#define LATENTBUS_BROKER_DELIVERY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "broker/session.h"
#include "latentbus/v1/broker.pb.h"
#include "latentbus/v1/envelope.pb.h"
#include "telemetry/trace_context.h"

namespace latentbus::broker {

// One envelope for one recipient, already in the form that recipient gets
// (delivered_form set, sender_id filled in).
struct QueuedMessage {
  std::shared_ptr<const v1::Envelope> envelope;
  absl::Time accepted_at;
  // The broker's send span when it records this message (sampled), else invalid: a
  // layer hands it to DeliveryTrace (broker/delivery_trace.h) when it delivers, and keeps
  // it with the message when it stores it elsewhere.
  telemetry::SpanContext trace = {};
};

struct RecipientStats {
  std::string agent_id;
  uint32_t queued = 0;
  uint32_t unacked = 0;
  uint64_t bytes = 0;  // held for it (queued + unacked)
  uint32_t credits = 0;
  bool attached = false;
};

class DeliveryLayer {
 public:
  virtual ~DeliveryLayer() = default;

  // QUEUE_FULL (broker/errors.h) when the recipient's queue is at its limit;
  // ALREADY_EXISTS for a duplicate (sender_id, message_id).
  virtual absl::Status Enqueue(const std::string& recipient, QueuedMessage message) = 0;

  // Binds the recipient's live session with `credits` delivery credits, replacing a
  // previous session; returns how many messages are waiting for it.
  virtual uint32_t Attach(const std::string& recipient, std::shared_ptr<AgentSession> session,
                          uint32_t credits) = 0;

  // Unbinds `session` if it is the recipient's current one; its unacked deliveries are
  // queued again for redelivery.
  virtual void Detach(const std::string& recipient, const AgentSession* session) = 0;

  // The recipient's session is no longer Backlogged(): delivery goes on (ignored for
  // another session).
  virtual void Resume(const std::string& recipient, const AgentSession* session) = 0;

  // More credits for the recipient's current session (ignored for another session).
  virtual void AddCredits(const std::string& recipient, const AgentSession* session,
                          uint32_t credits) = 0;

  // NOT_FOUND when no such message awaits an ack from the recipient.
  virtual absl::Status Ack(const std::string& recipient, const std::string& sender_id,
                           const std::string& message_id) = 0;

  // Acks every delivery to `session` (the recipient's current one; else nothing) whose
  // delivery_seq is at most `delivery_seq`; returns how many were acked.
  virtual size_t AckThrough(const std::string& recipient, const AgentSession* session,
                            uint64_t delivery_seq) = 0;

  // Removes the message if it was never handed to a session; true if removed.
  virtual bool Expire(const std::string& recipient, const std::string& sender_id,
                      const std::string& message_id) = 0;

  // Messages queued or unacked for the recipient.
  virtual uint32_t Pending(const std::string& recipient) const = 0;

  // Recipients with a session, or with something queued or unacked (an absent recipient
  // with nothing pending is not listed).
  virtual std::vector<RecipientStats> Stats() const = 0;

  // Releases the state of recipients absent (no session) since before `now` minus the
  // retention period; what was still queued for them is dropped. Returns how many
  // messages were dropped (the recipients released are counted in metrics).
  virtual size_t ReleaseAbsent(absl::Time now) = 0;

  // Waits until nothing is queued or unacked for a connected agent, or until `deadline`;
  // true when every connected agent has taken and acked what was for it. Used to drain:
  // agents without a stream cannot take theirs before the broker stops (registrations
  // are refused while draining), so they are not waited for; Stats() tells what is left.
  virtual bool AwaitEmpty(absl::Time deadline) = 0;

  // A frame for `agent_id`, an agent connected to another broker that shares the queues
  // (a late error for a sender that moved): handed to that broker through the shared
  // queue, which writes it to the agent's stream as it is, ahead of nothing and without
  // using a delivery credit. Fire and forget. False when the layer cannot (queues of this
  // broker alone).
  virtual bool Notify(const std::string& agent_id, const v1::BrokerFrame& frame) {
    (void)agent_id;
    (void)frame;
    return false;
  }

  // The broker is draining or shutting down: a layer whose queues live on servers stops
  // waiting on them once they are gone (they may stop with the broker). Idempotent.
  virtual void ShuttingDown() {}

  // Hands `session` nothing more (its unacked deliveries may still be acked) while its
  // broker is about to end it, so that what waits goes to the recipient's next session,
  // on another broker. Layers whose queues die with the broker ignore it (they flush).
  virtual void Quiesce(const std::string& recipient, const AgentSession* session) {
    (void)recipient;
    (void)session;
  }

  // Called with each reply (an envelope with a correlation id) handed to a session here,
  // while internal locks are held (keep it short; never call back into the delivery
  // layer). With shared queues a reply may have been routed by another broker: this is
  // how the requester's broker learns its request was answered. Layers whose replies are
  // always routed here may ignore it. Null stops the calls (after a call under way).
  using ReplyDelivered = std::function<void(const std::string& recipient, const v1::Envelope&)>;
  virtual void SetReplyDelivered(ReplyDelivered callback) { (void)callback; }
};

// What deduplication goes by, (sender, message id), as one unambiguous string.
inline std::string DedupKey(absl::string_view sender_id, absl::string_view message_id) {
  return absl::StrCat(sender_id, absl::string_view("\0", 1), message_id);
}

// The `form` label of latentbus_deliveries_total.
inline const char* FormName(v1::PayloadForm form) {
  return form == v1::PAYLOAD_FORM_LATENT ? "latent" : "text";
}

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_DELIVERY_H_
