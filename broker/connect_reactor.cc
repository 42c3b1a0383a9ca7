#include "broker/connect_reactor.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "broker/errors.h"
#include "broker/grpc_status.h"
#include "broker/tsan_annotations.h"
#include "broker/validation.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "spdlog/spdlog.h"

namespace latentbus::broker {

ConnectReactor* ConnectReactor::Create(Broker* broker,
                                       absl::StatusOr<std::shared_ptr<const Principal>> principal,
                                       std::string peer) {
  auto reactor = std::make_shared<ConnectReactor>(broker, std::move(principal), std::move(peer));
  reactor->self_ = reactor;               // reactions start only after the handler returns it
  LATENTBUS_TSAN_RELEASE(reactor.get());  // handed to reactions through gRPC
  return reactor.get();
}

ConnectReactor::ConnectReactor(Broker* broker,
                               absl::StatusOr<std::shared_ptr<const Principal>> principal,
                               std::string peer)
    : broker_(broker), principal_(principal.ok() ? *principal : nullptr), peer_(std::move(peer)) {
  if (!principal.ok()) {
    broker_->metrics().Increment("latentbus_rejects_total",
                                 {{"reason", ReasonName(ReasonOf(principal.status()))}});
    spdlog::warn("connect refused peer={} error={}", peer_,
                 Quoted(principal.status().message(), 512));
    {
      absl::MutexLock lock(&mu_);
      finishing_ = true;
      finish_called_ = true;
    }
    Finish(ToGrpcStatus(principal.status()));
    return;
  }
  StartRead(&request_);
}

bool ConnectReactor::Push(v1::BrokerFrame frame) {
  if (protocol_.load() >= 2) {
    absl::MutexLock lock(&mu_);
    if (credits_to_return_ > 0 && !finishing_ && !done_) {
      frame.set_send_credits(credits_to_return_);
      send_credits_ += credits_to_return_;
      credits_to_return_ = 0;
    }
  }
  grpc::ByteBuffer bytes;
  bool own = false;
  if (!grpc::SerializationTraits<v1::BrokerFrame>::Serialize(frame, &bytes, &own).ok()) {
    spdlog::error("cannot serialize a frame for peer={}", peer_);
    return false;
  }
  const grpc::ByteBuffer* next = nullptr;
  {
    absl::MutexLock lock(&mu_);
    if (finishing_ || done_) return false;
    outbox_bytes_ += bytes.Length();
    outbox_.push_back(std::move(bytes));
    if (writing_) return true;
    writing_ = true;
    next = &outbox_.front();  // deque: stable while other frames are appended
  }
  StartNextWrite(next, /*more=*/false);
  return true;
}

void ConnectReactor::StartNextWrite(const grpc::ByteBuffer* next, bool more) {
  grpc::WriteOptions options;
  if (more) options.set_buffer_hint();  // the frame behind it flushes both
  LATENTBUS_TSAN_RELEASE(this);
  StartWrite(next, options);
  LATENTBUS_TSAN_RELEASE(this);  // StartWrite may serialise `next` on this thread
}

bool ConnectReactor::Backlogged() const {
  absl::MutexLock lock(&mu_);
  const bool backlogged = outbox_bytes_ > kOutboxBudget;
  if (backlogged) told_backlogged_ = true;
  return backlogged;
}

void ConnectReactor::End(const absl::Status& status) {
  grpc::Status finish;
  {
    absl::MutexLock lock(&mu_);
    if (finishing_ || done_) return;
    finishing_ = true;
    finish_status_ = ToGrpcStatus(status);
    if (writing_) return;  // OnWriteDone finishes once the outbox is flushed
    finish_called_ = true;
    finish = finish_status_;
  }
  LATENTBUS_TSAN_RELEASE(this);
  Finish(finish);
}

void ConnectReactor::OnWriteDone(bool ok) {
  LATENTBUS_TSAN_ACQUIRE(this);
  const grpc::ByteBuffer* next = nullptr;
  bool more = false;
  bool finish = false;
  grpc::Status status;
  std::shared_ptr<const std::string> resume;
  bool read_on = false;
  {
    absl::MutexLock lock(&mu_);
    outbox_bytes_ -= outbox_.front().Length();
    outbox_.pop_front();
    if (read_paused_ && ok && outbox_bytes_ <= kOutboxBudget / 2 && !finishing_) {
      read_paused_ = false;  // no read is outstanding: OnReadDone left it here
      read_on = true;
    }
    if (told_backlogged_ && outbox_bytes_ <= kOutboxBudget / 2 && !finishing_) {
      told_backlogged_ = false;
      resume = resume_id_;
    }
    if (!ok) {
      // The stream is broken; nothing more can be written.
      outbox_.clear();
      outbox_bytes_ = 0;
      resume.reset();
      if (!finishing_) {
        finishing_ = true;
        finish_status_ = grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed");
      }
    }
    if (!outbox_.empty()) {
      next = &outbox_.front();
      more = outbox_.size() > 1;
    } else {
      writing_ = false;
      if (finishing_ && !finish_called_) {
        finish_called_ = true;
        finish = true;
        status = finish_status_;
      }
    }
  }
  if (next != nullptr) StartNextWrite(next, more);
  LATENTBUS_TSAN_RELEASE(this);
  if (read_on) StartRead(&request_);
  if (finish) Finish(status);
  if (resume) broker_->delivery().Resume(*resume, this);  // caught up: deliver again
}

void ConnectReactor::OnReadDone(bool ok) {
  LATENTBUS_TSAN_ACQUIRE(this);
  if (!ok) {
    // The agent half-closed, or the stream was cancelled / broken.
    End(absl::OkStatus());
    return;
  }
  v1::AgentFrame frame;
  grpc::Status parsed = grpc::SerializationTraits<v1::AgentFrame>::Deserialize(&request_, &frame);
  request_.Clear();
  if (!parsed.ok()) {
    // Say what was wrong, then end the stream: the frame's seq and id are unknowable.
    const absl::Status bad =
        BrokerError(v1::INVALID_ARGUMENT,
                    absl::StrCat("a frame did not decode as latentbus.v1.AgentFrame (",
                                 parsed.error_message().empty() ? "bad wire format or invalid UTF-8"
                                                                : parsed.error_message(),
                                 "); the stream ends"));
    PushError(bad, 0);
    End(bad);
    return;
  }
  HandleFrame(std::move(frame));
  bool paused;
  {
    absl::MutexLock lock(&mu_);
    if (finishing_) return;
    // OnWriteDone reads on once the agent has taken half of the outbox (from here on it
    // may, concurrently: this reaction no longer touches the read side).
    paused = read_paused_ = outbox_bytes_ > kOutboxBudget;
  }
  LATENTBUS_TSAN_RELEASE(this);
  if (paused) {
    broker_->metrics().Increment("latentbus_read_pauses_total");
    return;
  }
  StartRead(&request_);
}

void ConnectReactor::OnCancel() {
  LATENTBUS_TSAN_ACQUIRE(this);
  // May run concurrently with a read reaction: touch only immutable members and atomics.
  cancelled_.store(true);
  spdlog::debug("stream cancelled peer={}", peer_);
}

void ConnectReactor::OnDone() {
  LATENTBUS_TSAN_ACQUIRE(this);
  bool replaced = false;
  if (registered_) {
    replaced = !broker_->Unregister(agent_id_, this);
  }
  grpc::Status ended;
  {
    absl::MutexLock lock(&mu_);
    done_ = true;
    outbox_.clear();
    outbox_bytes_ = 0;
    ended = finish_status_;
  }
  if (registered_) {
    // Why, so a client that keeps coming back can be told apart from one that left.
    std::string why = !ended.ok()         ? Quoted(ended.error_message(), 256)
                      : cancelled_.load() ? std::string(
                                                "'cancelled: the client went away, or "
                                                "sent a frame over the size limit'")
                                          : std::string("'closed by the agent'");
    spdlog::info("agent disconnected agent_id={} peer={} replaced={} ended={}", agent_id_, peer_,
                 replaced, why);
  }
  std::shared_ptr<ConnectReactor> keep = std::move(self_);  // may destroy *this on return
}

void ConnectReactor::PushError(const absl::Status& status, uint64_t seq,
                               absl::string_view message_id) {
  broker_->metrics().Increment("latentbus_rejects_total",
                               {{"reason", ReasonName(ReasonOf(status))}});
  v1::BrokerFrame frame;
  frame.set_seq(seq);
  *frame.mutable_error() = ToErrorProto(status, message_id, seq);
  Push(std::move(frame));
}

void ConnectReactor::Reject(const absl::Status& status) {
  broker_->metrics().Increment("latentbus_rejects_total",
                               {{"reason", ReasonName(ReasonOf(status))}});
  spdlog::warn("stream refused agent_id={} peer={} error={}", Quoted(agent_id_), peer_,
               Quoted(status.message(), 512));
  End(status);
}

void ConnectReactor::HandleFrame(v1::AgentFrame frame) {
  const uint64_t seq = frame.seq();
  if (!registered_) {
    if (frame.frame_case() != v1::AgentFrame::kRegister) {
      PushError(BrokerError(v1::NOT_REGISTERED, "the first frame must be Register"), seq);
      End(absl::FailedPreconditionError("the first frame must be Register"));
      return;
    }
    HandleRegister(seq, frame.register_());
    return;
  }
  for (const v1::Ack& ack : frame.acks()) HandleAck(ack);
  switch (frame.frame_case()) {
    case v1::AgentFrame::kRegister:
      if (!TakeRateToken(seq)) return;
      PushError(BrokerError(v1::NOT_REGISTERED, "this stream is already registered"), seq);
      return;
    case v1::AgentFrame::kSubscribe:
      if (!TakeRateToken(seq)) return;
      HandleSubscribe(seq, frame.subscribe().topic(), true);
      return;
    case v1::AgentFrame::kUnsubscribe:
      if (!TakeRateToken(seq)) return;
      HandleSubscribe(seq, frame.unsubscribe().topic(), false);
      return;
    case v1::AgentFrame::kSend:
      HandleSend(seq, frame.mutable_send());
      return;
    case v1::AgentFrame::kAck:
      HandleAck(frame.ack());
      return;
    case v1::AgentFrame::kCredit:
      broker_->delivery().AddCredits(agent_id_, this, frame.credit().credits());
      return;
    default:
      if (frame.frame_case() == v1::AgentFrame::FRAME_NOT_SET && frame.acks_size() > 0) {
        return;  // acks alone
      }
      if (!TakeRateToken(seq)) return;
      PushError(BrokerError(v1::INVALID_ARGUMENT, "empty or unknown frame"), seq);
      return;
  }
}

bool ConnectReactor::TakeRateToken(uint64_t seq) {
  // A bucket of their own, of the messages' size: a sender busy at its message rate can
  // still subscribe, and a burst of subscriptions costs no messages.
  const std::string key = SendContext{agent_id_, principal_}.RateKey();
  if (broker_->rate_limiter().Allow("frames/" + key, absl::Now())) return true;
  const LimitsConfig& limits = broker_->config().limits;
  PushError(RateLimitedError(key, limits.rate_per_second, limits.rate_burst,
                             "control frames (subscription changes, empty frames)"),
            seq);
  return false;
}

void ConnectReactor::HandleAck(const v1::Ack& ack) {
  if (ack.through_delivery_seq() > 0) {
    broker_->delivery().AckThrough(agent_id_, this, ack.through_delivery_seq());
  }
  if (ack.message_id().empty()) return;
  if (!broker_->delivery().Ack(agent_id_, ack.sender_id(), ack.message_id()).ok()) {
    broker_->metrics().Increment("latentbus_unknown_acks_total");
  }
}

void ConnectReactor::HandleRegister(uint64_t seq, const v1::Register& reg) {
  const LimitsConfig& limits = broker_->config().limits;
  const uint32_t credits =
      reg.initial_credits() != 0 ? reg.initial_credits() : limits.delivery_credits;
  const uint32_t protocol = std::clamp<uint32_t>(reg.protocol(), 1, kProtocolRevision);
  absl::StatusOr<bool> replaced =
      broker_->Register(reg, *principal_, shared_from_this(), credits, [&](uint32_t pending) {
        // The stream is this agent's from here on; Registered goes before any delivery.
        agent_id_ = reg.agent_id();
        {
          absl::MutexLock lock(&mu_);
          send_credits_ = limits.send_credits;
          resume_id_ = std::make_shared<const std::string>(agent_id_);
        }
        protocol_.store(protocol);
        registered_ = true;
        v1::BrokerFrame frame;
        frame.set_seq(seq);
        v1::Registered* registered = frame.mutable_registered();
        registered->set_agent_id(agent_id_);
        registered->set_send_credits(limits.send_credits);
        registered->set_max_message_bytes(limits.max_message_bytes);
        registered->set_pending_redeliveries(pending);
        registered->set_broker_version(kBrokerVersion);
        registered->set_protocol(protocol);
        Push(std::move(frame));
      });
  if (!replaced.ok()) {
    // The refusal's log line names the id once it is known to be safe to log.
    if (ValidateName("agent_id", reg.agent_id()).ok()) agent_id_ = reg.agent_id();
    return Reject(replaced.status());
  }
  spdlog::info("agent registered agent_id={} model={} hidden={} peer={} principal={} replaced={}",
               agent_id_, reg.model().model_id(), reg.model().hidden_size(), peer_,
               principal_->name, *replaced);
}

void ConnectReactor::HandleSubscribe(uint64_t seq, const std::string& topic, bool subscribe) {
  if (absl::Status s = ValidateName("topic", topic); !s.ok()) return PushError(s, seq);
  if (subscribe && !principal_->MaySubscribe(topic)) {
    return PushError(
        BrokerError(v1::PERMISSION_DENIED, absl::StrCat("token '", principal_->name,
                                                        "' may not subscribe to '", topic, "'")),
        seq);
  }
  absl::Status s = subscribe
                       ? broker_->registry().Subscribe(
                             agent_id_, this, topic, broker_->config().limits.max_topics_per_agent)
                       : broker_->registry().Unsubscribe(agent_id_, this, topic);
  if (!s.ok()) return PushError(s, seq);
  v1::BrokerFrame frame;
  frame.set_seq(seq);
  frame.mutable_subscribe_result()->set_topic(topic);
  frame.mutable_subscribe_result()->set_subscribed(subscribe);
  Push(std::move(frame));
}

void ConnectReactor::HandleSend(uint64_t seq, v1::Send* send) {
  const std::string message_id = send->envelope().message_id();
  const bool lean = protocol_.load() >= 2;
  const v1::Envelope& envelope = send->envelope();
  if (lean && !envelope.correlation_id().empty() &&
      envelope.recipient().target_case() == v1::Address::kAgentId) {
    // A reply acks the request it answers (not found: acked before, or no such request).
    (void)broker_->delivery().Ack(agent_id_, envelope.recipient().agent_id(),
                                  envelope.correlation_id());
  }
  bool has_credit;
  {
    absl::MutexLock lock(&mu_);
    has_credit = send_credits_ > 0;
    if (has_credit) --send_credits_;
  }
  if (!has_credit) {
    return PushError(BrokerError(v1::NO_CREDIT, "no send credit left; wait for a Credit frame"),
                     seq, message_id);
  }
  const bool answer = !lean || send->want_result();
  SendContext context{agent_id_, principal_};
  std::shared_ptr<ConnectReactor> self = shared_from_this();
  broker_->router().Send(context, std::move(*send->mutable_envelope()),
                         [self, seq, answer](SendOutcome outcome) {
                           if (!outcome.refused.ok()) {
                             v1::BrokerFrame frame;
                             frame.set_seq(seq);
                             v1::Error* error = frame.mutable_error();
                             *error = ToErrorProto(outcome.refused, outcome.message_id, seq);
                             for (const std::string& a : outcome.refused_agents) {
                               error->add_agent_ids(a);
                             }
                             self->Push(std::move(frame));
                           } else {
                             if (answer && (!outcome.accepted.empty() || outcome.errors.empty())) {
                               v1::BrokerFrame frame;
                               frame.set_seq(seq);
                               v1::SendResult* result = frame.mutable_send_result();
                               result->set_message_id(outcome.message_id);
                               for (v1::RecipientOutcome& r : outcome.accepted) {
                                 *result->add_recipients() = std::move(r);
                               }
                               self->Push(std::move(frame));
                             }
                             for (v1::Error& e : outcome.errors) {
                               v1::BrokerFrame frame;
                               frame.set_seq(seq);
                               e.set_seq(seq);
                               *frame.mutable_error() = std::move(e);
                               self->Push(std::move(frame));
                             }
                           }
                           self->ReturnSendCredit();
                         });
}

void ConnectReactor::ReturnSendCredit() {
  uint32_t credits = 0;
  {
    absl::MutexLock lock(&mu_);
    ++credits_to_return_;
    const uint32_t window = broker_->config().limits.send_credits;
    if (credits_to_return_ < std::max<uint32_t>(1, window / 2)) return;
    // Taken under the lock that counted them, on both revisions (on revision 2 frames
    // pushed before this carried the earlier ones), so a Credit frame is never empty.
    credits = credits_to_return_;
    credits_to_return_ = 0;
    send_credits_ += credits;
  }
  v1::BrokerFrame frame;
  frame.mutable_credit()->set_credits(credits);
  Push(std::move(frame));
}

}  // namespace latentbus::broker
