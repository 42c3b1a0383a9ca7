// The JetStream DeliveryLayer (broker/delivery.h): queues live in a NATS JetStream stream,
// so what a sender was told is accepted survives the broker process, and any broker on the
// same stream can deliver it.
//
// Layout (docs/SCALEOUT.md):
//   stream    <stream>, work-queue retention, subjects <stream>.q.*, file storage, R<replicas>;
//             MaxMsgsPerSubject = max_queue_depth with DiscardNewPerSubject (the next
//             publish to a full recipient fails: QUEUE_FULL, other recipients untouched);
//             MaxBytes = max_total_bytes; Duplicates = dedup_window_time.
//   subject   <stream>.q.<hex of the recipient id> (ids may hold any byte; subjects not).
//   consumer  one durable pull consumer per recipient, "r<hex>", explicit acks, filtered on
//             its subject; created on the first Attach (or Enqueue) and bound after that.
//   msg id    Nats-Msg-Id = hex XXH3-128 of (recipient, sender, message id): a repeat within
//             the server's duplicate window is stored once (ALREADY_EXISTS).
//
// Delivery: each attached recipient has pull requests outstanding for as many messages as
// it has delivery credits (requests to $JS.API.CONSUMER.MSG.NEXT with a reply inbox per
// request, answered on one asynchronous subscription, so no thread blocks per agent). A
// message becomes a Deliver frame (delivery_seq numbered per session, delivery_attempt from
// JetStream's delivery count); Ack / AckThrough publish +ACK to its ack subject. Detach
// answers -NAK for everything unacked, so it is redelivered at once to the next session, on
// this broker or another; a message that arrives for a recipient with no session (a pull
// request outlived its session) is NAKed with a short delay. If this broker dies, what it
// held unacked is redelivered after ack_wait.
//
// What differs from the in-memory layer, and why:
// - The per-recipient byte budget is not enforced (JetStream bounds bytes per stream, not
//   per subject): each recipient holds at most max_queue_depth messages of at most
//   max_message_bytes each, and all together at most max_total_bytes.
// - Dedup is by time (the stream's duplicate window), not by the last N message ids.
// - Expire deletes the message from the stream only while this broker knows it was not
//   delivered (it enqueued it and has not seen it delivered).
// - Pending and Stats ask the server (one request per recipient).
// - AwaitEmpty waits for this broker's unacked deliveries only: what is queued is durable
//   and needs no draining.
//
// Thread safety: safe for concurrent use. One mutex guards the recipients; sessions are
// pushed to while it is held (the DeliveryLayer contract). Publishing blocks (it waits for
// the stream's acknowledgement) and is done outside the mutex.
#ifndef LATENTBUS_BROKER_JETSTREAM_DELIVERY_H_
#define LATENTBUS_BROKER_JETSTREAM_DELIVERY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "broker/delivery.h"
#include "broker/metrics.h"
#include "telemetry/tracer.h"

namespace latentbus::broker {

class JetStreamDelivery final : public DeliveryLayer {
 public:
  struct Options {
    // Comma-separated nats:// URLs of the JetStream servers (one cluster).
    std::string servers;
    std::string stream = "LATENTBUS";
    int replicas = 1;  // 3 on a three-node cluster
    uint32_t max_queue_depth = 1024;
    uint64_t max_message_bytes = 4u << 20;
    uint64_t max_total_bytes = uint64_t{1} << 30;
    absl::Duration dedup_window_time = absl::Minutes(2);
    absl::Duration absent_retention = absl::Hours(1);
    // How long a delivery may stay unacked on a broker that died before JetStream hands it
    // out again.
    absl::Duration ack_wait = absl::Seconds(30);
    // How long a publish keeps being retried (same message id) while the stream has no
    // leader; an election takes a few seconds.
    absl::Duration publish_timeout = absl::Seconds(10);
    // How long each pull request waits on the server before it is renewed.
    absl::Duration pull_expiry = absl::Seconds(5);
    // Name of this broker in connection names and logs.
    std::string broker_name = "latentbus-broker";
    // Null: tracing off. Else a message the routing broker recorded carries its send span
    // in the Lb-Trace header, and the delivering broker records queue wait and deliver
    // under it (broker/delivery_trace.h). Must outlive the delivery layer.
    telemetry::Tracer* tracer = nullptr;
  };

  // Connects, creates or updates the stream (Unavailable naming the servers when they
  // cannot be reached, FailedPrecondition when the servers have no JetStream).
  // `metrics` may be null; it must outlive the object. It gets
  // latentbus_jetstream_publish_seconds (a publish until JetStream acknowledged it, retries
  // included), latentbus_jetstream_publish_retries_total (publishes sent again while no
  // stream leader answered), latentbus_deliveries_total{form}, latentbus_redeliveries_total
  // (deliveries JetStream had handed out before) and the released_* counters; the queue
  // gauges come from Stats() (queued = the consumer's pending count).
  static absl::StatusOr<std::unique_ptr<JetStreamDelivery>> Create(Options options,
                                                                   Metrics* metrics);
  ~JetStreamDelivery() override;

  absl::Status Enqueue(const std::string& recipient, QueuedMessage message) override;
  uint32_t Attach(const std::string& recipient, std::shared_ptr<AgentSession> session,
                  uint32_t credits) override;
  void Detach(const std::string& recipient, const AgentSession* session) override;
  void AddCredits(const std::string& recipient, const AgentSession* session,
                  uint32_t credits) override;
  void Resume(const std::string& recipient, const AgentSession* session) override;
  absl::Status Ack(const std::string& recipient, const std::string& sender_id,
                   const std::string& message_id) override;
  size_t AckThrough(const std::string& recipient, const AgentSession* session,
                    uint64_t delivery_seq) override;
  bool Expire(const std::string& recipient, const std::string& sender_id,
              const std::string& message_id) override;
  uint32_t Pending(const std::string& recipient) const override;
  std::vector<RecipientStats> Stats() const override;
  size_t ReleaseAbsent(absl::Time now) override;
  bool AwaitEmpty(absl::Time deadline) override;
  void Quiesce(const std::string& recipient, const AgentSession* session) override;
  bool Notify(const std::string& agent_id, const v1::BrokerFrame& frame) override;
  void SetReplyDelivered(ReplyDelivered callback) override;
  // Closes the connection once the servers have been unreachable for 0.6 s
  // (NatsLink::CloseWhenServersGone).
  void ShuttingDown() override;

  // The subject a recipient's messages are published to.
  static std::string SubjectFor(const std::string& stream, const std::string& recipient);

  class Impl;

 private:
  explicit JetStreamDelivery(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_JETSTREAM_DELIVERY_H_
