// One agent's Connect stream: the server side of the bidirectional stream, as a gRPC
// callback reactor.
//
// Life cycle: Create() starts the first read (or, for a refused caller, finishes at
// once with the authentication status). The first frame must be Register; then the
// stream subscribes, sends, acks and grants credits until the agent half-closes, the
// stream breaks, a newer stream takes the agent id (ABORTED) or the server shuts down.
// OnDone unregisters the agent (if this stream still owns it) and detaches it from the
// delivery layer, which keeps its unacked messages for the next stream.
//
// Frames travel as raw bytes (the service registers Connect as a raw method): the reactor
// parses each AgentFrame itself, so a frame that does not decode (bad wire format,
// invalid UTF-8 in a string) gets an INVALID_ARGUMENT Error frame saying so and the stream
// ends INVALID_ARGUMENT, where gRPC would end it silently with OK; and each BrokerFrame
// is serialized once, when pushed, so the outbox holds bytes, not message copies.
//
// Writes: exactly one outstanding write, fed from `outbox_`; OnWriteDone starts the
// next. A write with more frames queued behind it carries gRPC's buffer hint, so frames
// queued together leave in one transport write (the last one flushes). Frames come from reactions
// (answers), the delivery layer (Deliver), the router and translation workers (SendResult, Error)
// and the timer (DEADLINE_EXCEEDED). Finish is called exactly once, after the outbox has been
// flushed, with a real status on every path. Reactions never block: routing is non-blocking and
// translation runs in the pool.
//
// Send flow control: the agent gets `limits.send_credits` credits in Registered; each
// Send takes one (NO_CREDIT when none is left) and the broker returns them as sends
// complete: with Credit frames (revision 1), or on the next frame it writes anyway and a
// Credit frame only once half the window waits (revision 2).
//
// Protocol revision (broker.proto, "Protocol revision 2"): min(Register.protocol,
// kProtocolRevision), fixed at registration.
//
// Thread safety: reactions are serialised per direction by gRPC; state shared with
// other threads is guarded by mu_. Never holds mu_ while calling into gRPC or another
// component. Lives (through self_) until OnDone, and beyond while others hold it.
#ifndef LATENTBUS_BROKER_CONNECT_REACTOR_H_
#define LATENTBUS_BROKER_CONNECT_REACTOR_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "broker/auth.h"
#include "broker/broker.h"
#include "broker/session.h"
#include "grpcpp/grpcpp.h"
#include "latentbus/v1/broker.pb.h"

namespace latentbus::broker {

class ConnectReactor final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>,
                             public AgentSession,
                             public std::enable_shared_from_this<ConnectReactor> {
 public:
  // The reactor to return from the Connect handler. `principal` is the caller's
  // authentication result; an error finishes the stream with it.
  static ConnectReactor* Create(Broker* broker,
                                absl::StatusOr<std::shared_ptr<const Principal>> principal,
                                std::string peer);

  // Use Create (public only for std::make_shared).
  ConnectReactor(Broker* broker, absl::StatusOr<std::shared_ptr<const Principal>> principal,
                 std::string peer);

  // Bytes of frames pushed but not yet written beyond which the stream is Backlogged:
  // deliveries wait, and so does the next read (answers to what the agent sends would
  // pile up otherwise); both resume once half of it is written.
  static constexpr size_t kOutboxBudget = 1 << 20;

  bool Push(v1::BrokerFrame frame) override;
  void End(const absl::Status& status) override;
  bool Backlogged() const override;
  bool AcksReturnCredits() const override { return protocol_.load() >= 2; }

  // The highest stream protocol revision this broker speaks.
  static constexpr uint32_t kProtocolRevision = 2;

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone() override;
  void OnCancel() override;

 private:
  // Handlers run inside OnReadDone (one at a time).
  void HandleFrame(v1::AgentFrame frame);
  void HandleRegister(uint64_t seq, const v1::Register& reg);
  void HandleSend(uint64_t seq, v1::Send* send);
  void HandleAck(const v1::Ack& ack);
  // Frames that earn an answer without carrying a message (a subscription change, a
  // second Register, an empty or unknown frame) take a token from a second bucket of the
  // sender's, as large as its message bucket: repeated at line rate they would keep the
  // broker busy, and in a cluster JetStream (a subscription change rewrites the agent's
  // record in the directory). False (and a RATE_LIMITED answer for `seq`) when empty.
  bool TakeRateToken(uint64_t seq);
  void HandleSubscribe(uint64_t seq, const std::string& topic, bool subscribe);
  void PushError(const absl::Status& status, uint64_t seq, absl::string_view message_id = "");
  void ReturnSendCredit();
  // End with `status` after counting it as a rejection.
  void Reject(const absl::Status& status);

  Broker* const broker_;
  const std::shared_ptr<const Principal> principal_;
  const std::string peer_;
  std::shared_ptr<ConnectReactor> self_;  // set by Create, released in OnDone

  // Read side: touched only by OnReadDone / handlers (serialised) and OnDone (after).
  grpc::ByteBuffer request_;
  std::string agent_id_;
  bool registered_ = false;
  // agent_id_ for the write side (OnWriteDone's Resume), set once before Attach.
  std::shared_ptr<const std::string> resume_id_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> cancelled_{false};  // OnCancel ran (set there, read in OnDone)
  std::atomic<uint32_t> protocol_{1};   // set once at registration, before Attach
  void StartNextWrite(const grpc::ByteBuffer* next, bool more);

  mutable absl::Mutex mu_;
  std::deque<grpc::ByteBuffer> outbox_ ABSL_GUARDED_BY(mu_);  // serialized BrokerFrames
  size_t outbox_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  mutable bool told_backlogged_ ABSL_GUARDED_BY(mu_) = false;  // Backlogged() said true since the
                                                               // last Resume
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  // OnReadDone left the next read to OnWriteDone: the outbox was over budget (an agent
  // that sends without reading would otherwise grow it answer by answer).
  bool read_paused_ ABSL_GUARDED_BY(mu_) = false;
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_called_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status finish_status_ ABSL_GUARDED_BY(mu_);
  uint32_t send_credits_ ABSL_GUARDED_BY(mu_) = 0;
  uint32_t credits_to_return_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_CONNECT_REACTOR_H_
