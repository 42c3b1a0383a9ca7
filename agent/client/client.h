// The C++ client SDK: one agent's connection to a latentbus broker (proto/latentbus/v1).
//
// An application links this without libtorch: it speaks Envelopes; building latent
// packets is the codec's job (codec/packet_proto.h) and the agent process's.
//
//   ClientOptions o;  o.address = "127.0.0.1:7070";  o.agent_id = "planner";
//   absl::StatusOr<std::unique_ptr<Client>> c = Client::Connect(o);
//   (*c)->Send(envelope);                      // waits for the broker's SendResult
//   (*c)->Request(envelope, absl::Seconds(5)); // the reply envelope
//   (*c)->Serve([](const v1::Envelope& m) { ... });  // receive loop, acks after each
//
// Semantics:
// - Connect opens the Connect stream, registers (with a ModelSpec, or none for a
//   text-only client) and returns once the broker answered Registered.
// - Send blocks while the broker's send window is used up (credits are honoured, never
//   overrun) and returns the SendResult, or the broker's refusal as a status whose
//   ErrorReason (wire::ReasonOf) says why: NEEDS_TEXT, NO_ROUTE, QUEUE_FULL, ...
// - Delivery credits: `delivery_credits` are granted at registration and one is given
//   back for every delivery acked, so the broker never has more than that many unacked
//   deliveries in flight to this client.
// - Frames: with a broker that speaks revision 2 (ClientOptions::protocol), Request does
//   not wait for a SendResult (the reply answers it), Reply acks the request it answers,
//   and acks ride on the next frame written (or go alone after `ack_delay`).
// - Reconnect: when the stream breaks (broker restart, network), the client reconnects
//   with exponential backoff (to the next listed broker when the address lists several),
//   registers again with its current topics, and resends every envelope whose SendResult
//   it had not received (same message id: the broker's dedup makes that safe).
//   Deliveries it had not acked are redelivered by the broker (and handed over again); a
//   repeat of a delivery already acked (its ack lost with a broker) is acked again and
//   not handed over, whether it comes after the ack or waits in the client when the
//   first is acked (ClientOptions::dedup_window). A stream
//   ended for good (bad token, invalid registration, replaced by another stream with the
//   same agent id) fails pending calls with that status and does not reconnect.
//
// Thread safety: every method is safe to call from any thread; Send/Request/Receive
// block only the caller. Close (or the destructor) wakes and fails every blocked call.
#ifndef LATENTBUS_AGENT_CLIENT_CLIENT_H_
#define LATENTBUS_AGENT_CLIENT_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "latentbus/v1/broker.grpc.pb.h"
#include "telemetry/tracer.h"

namespace latentbus::agent {

struct ClientOptions {
  // host:port of the broker, or several, comma-separated ("b1:7070,b2:7070": brokers of
  // one cluster). Connect tries them in order; when a stream is lost the client
  // reconnects to the same broker first and then to the next ones in turn (failover);
  // after the broker's GoAway (it is draining) to the next one first.
  std::string address;
  std::string agent_id;  // registered name
  // No model: a text-only client (receives text; cannot send latents).
  std::optional<v1::ModelSpec> model;
  std::vector<std::string> topics;  // subscribed at registration
  std::string token;                // bearer token ("" = none)
  std::string tls_ca_file;          // PEM roots; non-empty enables TLS
  std::string tls_cert_file;        // client certificate chain (mTLS)
  std::string tls_key_file;         // client private key (mTLS)
  uint32_t delivery_credits = 32;   // unacked deliveries the broker may have in flight
  absl::Duration connect_timeout = absl::Seconds(10);
  // A write the broker takes nothing of (it stopped reading, so flow control holds the
  // frame) waits this long, or until its Send's, Request's or Subscribe's deadline;
  // then the stream is reset and reconnected (without it, the write would wait until
  // keepalive gives the connection up, tens of seconds later). Must be positive; a
  // write is given at least 1 s once its turn has come.
  absl::Duration write_timeout = absl::Seconds(10);
  bool reconnect = true;
  // Stream protocol revision offered at registration (broker.proto): 2 asks for the lean
  // frames (no SendResult for requests, replies ack their requests, acks ride on sends
  // and give credits back); 1 keeps the original frames. An older broker answers 1.
  uint32_t protocol = 2;
  // Revision 2: how long an ack may wait for a frame to ride on before it is written on
  // its own (also written at once when half the delivery credits wait on acks).
  absl::Duration ack_delay = absl::Milliseconds(2);
  absl::Duration backoff_initial = absl::Milliseconds(100);
  absl::Duration backoff_max = absl::Seconds(5);
  // Called (on the reader thread; keep it short) for broker Error frames that answer no
  // pending call: a late DEADLINE_EXCEEDED for an undelivered message, QUEUE_FULL for
  // some recipients of an otherwise accepted send, ...
  std::function<void(const v1::Error&)> on_error;
  // A delivery of a (sender, message id) the application already acked (its ack was lost
  // with a broker that died) is acked again and not handed over; the last this many acks
  // are remembered. 0 hands every delivery over.
  uint32_t dedup_window = 4096;
  // Tracing (telemetry/tracer.h; null: off). Not owned; must outlive the client. A Send
  // or Request of an envelope without a traceparent records a PRODUCER span
  // (latentbus.client.send / latentbus.client.request, until the broker's answer or the
  // reply) and carries its context as the envelope's traceparent: the message's trace
  // starts here. An envelope that has one is sent as it is.
  telemetry::Tracer* tracer = nullptr;
};

class Client {
 public:
  static absl::StatusOr<std::unique_ptr<Client>> Connect(ClientOptions options);
  ~Client();  // Close()
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const std::string& agent_id() const;
  // The last Registered answer (limits, broker version).
  v1::Registered registered() const;
  // Number of successful reconnects since Connect.
  int reconnects() const;

  // Fills message_id (random when empty), sender_id and sent_at, sends, and waits up to
  // `timeout` for the broker's answer.
  absl::StatusOr<v1::SendResult> Send(v1::Envelope envelope,
                                      absl::Duration timeout = absl::Seconds(30));

  // Sends with expects_reply and deadline = now + timeout; returns the reply envelope
  // (acked), DEADLINE_EXCEEDED when none came in time, or the send's refusal. Only a reply
  // from the addressee counts (for an agent id); anything else with that correlation id
  // goes to Receive like any other delivery.
  absl::StatusOr<v1::Envelope> Request(v1::Envelope envelope, absl::Duration timeout);

  // Sends `reply` to the sender of `request` with correlation_id = request.message_id.
  // With revision 2 this also acks `request` (a later Ack of it writes nothing), and a
  // repeat of `request` (redelivered after a lost stream) is not handed over, as after Ack.
  absl::StatusOr<v1::SendResult> Reply(const v1::Envelope& request, v1::Envelope reply,
                                       absl::Duration timeout = absl::Seconds(30));

  // The next delivered envelope that is not the reply to one of our Requests; nullopt
  // after `timeout` or once closed. Ack it when handled.
  std::optional<v1::Envelope> Receive(absl::Duration timeout);
  // Acknowledges a delivery (the broker stops redelivering it) and returns its credit.
  void Ack(const v1::Envelope& delivered);

  // Receive loop: calls `handler` for each delivery and acks it when the handler
  // returns, until Close() or a fatal stream end; returns that status (OK after Close).
  absl::Status Serve(const std::function<void(const v1::Envelope&)>& handler);

  // Adds / removes a topic subscription; waits for the broker's answer.
  absl::Status Subscribe(const std::string& topic, absl::Duration timeout = absl::Seconds(10));
  absl::Status Unsubscribe(const std::string& topic, absl::Duration timeout = absl::Seconds(10));

  // Unary RPCs (with this client's token).
  absl::StatusOr<v1::RouteQueryResponse> RouteQuery(v1::RouteQueryRequest request,
                                                    absl::Duration timeout = absl::Seconds(10));
  absl::StatusOr<v1::ListAgentsResponse> ListAgents(absl::Duration timeout = absl::Seconds(10));

  // Stream protocol revision in use on the current stream (1 or 2).
  uint32_t protocol() const;

  // Ends the stream (acks still waiting are written first; half-close, then cancel) and
  // fails every blocked call with CANCELLED. Idempotent.
  void Close();

  // Status of a fatal end (OK while usable or after a plain Close).
  absl::Status status() const;
  // True once Close() ran: every call fails with CANCELLED from then on.
  bool closed() const;

 private:
  struct State;
  explicit Client(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// A fresh random message id (128 bits, hex).
std::string NewMessageId();

}  // namespace latentbus::agent

#endif  // LATENTBUS_AGENT_CLIENT_CLIENT_H_
