#include "bench/broker_transport.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "bench/bidi_client.h"
#include "grpcpp/grpcpp.h"
#include "latentbus/v1/broker.grpc.pb.h"

namespace latentbus::bench {

// One agent: its channel, stream and flow-control state.
class BrokerTransport::Agent {
 public:
  Agent(int index, const BrokerTransport* transport) : index_(index), transport_(transport) {}

  absl::Status Open(const BusAgent& spec, const std::string& address, const Options& options) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // its own TCP connection
    args.SetMaxReceiveMessageSize(-1);
    args.SetMaxSendMessageSize(-1);
    channel_ = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
    stub_ = v1::Broker::NewStub(channel_);
    stream_ = std::make_unique<BidiClient<v1::AgentFrame, v1::BrokerFrame>>(
        [this](v1::BrokerFrame& frame) { OnFrame(frame); },
        [this](const grpc::Status& status) {
          if (!registered_.HasBeenNotified()) {
            Registered(
                absl::UnavailableError(absl::StrCat("stream ended: ", status.error_message())), 0);
          }
        });
    if (!options.token.empty()) {
      stream_->context().AddMetadata("authorization", "Bearer " + options.token);
    }
    credit_batch_ = std::max<uint32_t>(1, options.delivery_credits / 4);
    stream_->Start([this](grpc::ClientContext* c,
                          grpc::ClientBidiReactor<v1::AgentFrame, v1::BrokerFrame>* r) {
      stub_->async()->Connect(c, r);
    });
    v1::AgentFrame frame;
    frame.set_seq(NextSeq());
    v1::Register* reg = frame.mutable_register_();
    reg->set_agent_id(spec.id);
    *reg->mutable_model() = spec.model;
    reg->set_initial_credits(options.delivery_credits);
    reg->set_protocol(options.protocol);
    for (const std::string& t : spec.topics) reg->add_topics(t);
    stream_->Write(std::move(frame));
    if (!registered_.WaitForNotificationWithTimeout(absl::Seconds(10))) {
      return absl::DeadlineExceededError(absl::StrCat("agent ", spec.id, ": no Registered"));
    }
    absl::MutexLock lock(&mu_);
    return register_status_;
  }

  absl::Status Send(const v1::Envelope& envelope) {
    {
      absl::MutexLock lock(&mu_);
      if (send_credits_ == 0) {
        return absl::ResourceExhaustedError("NO_CREDIT");
      }
      --send_credits_;
    }
    v1::AgentFrame frame;
    frame.set_seq(NextSeq());
    *frame.mutable_send()->mutable_envelope() = envelope;
    TakeAck(&frame);
    if (!stream_->Write(std::move(frame))) return absl::UnavailableError("stream ended");
    return absl::OkStatus();
  }

  uint64_t messages() const { return stream_ ? stream_->messages() : 0; }

  void Close() {
    if (stream_ && lean_) {  // what was processed is not delivered again
      v1::AgentFrame frame;
      TakeAck(&frame);
      if (frame.acks_size() > 0) stream_->Write(std::move(frame));
    }
    if (stream_) {
      stream_->Cancel();
      stream_->AwaitDone(absl::Seconds(10));
    }
  }

 private:
  uint64_t NextSeq() { return seq_.fetch_add(1, std::memory_order_relaxed) + 1; }

  // Revision 2: puts the waiting cumulative ack on `frame`.
  void TakeAck(v1::AgentFrame* frame) {
    absl::MutexLock lock(&mu_);
    if (unacked_ == 0) return;
    frame->add_acks()->set_through_delivery_seq(ack_through_);
    unacked_ = 0;
    unacked_bytes_ = 0;
  }

  void OnFrame(v1::BrokerFrame& frame) {
    if (frame.send_credits() > 0) {  // revision 2: credits riding on any frame
      absl::MutexLock lock(&mu_);
      send_credits_ += frame.send_credits();
    }
    switch (frame.frame_case()) {
      case v1::BrokerFrame::kDeliver: {
        const v1::Envelope& env = frame.deliver().envelope();
        BusDelivery delivery{index_, &env, env.sender_id()};
        if (lean_) {
          // The handler answers a request at once (its reply acks it); everything else is
          // acked cumulatively on the next Send, or alone when a quarter window or 1 MiB
          // waits (the broker's queue budget counts unacked bytes: a count alone stalled
          // at 64 MiB with messages over 256 KiB).
          bool flush;
          {
            absl::MutexLock lock(&mu_);
            ack_through_ = frame.deliver().delivery_seq();
            unacked_bytes_ += env.ByteSizeLong();
            flush = !env.expects_reply() &&
                    (++unacked_ >= credit_batch_ || unacked_bytes_ >= kAckBytes);
          }
          transport_->handlers_.deliver(delivery);
          if (flush) {
            v1::AgentFrame ack;
            ack.set_seq(NextSeq());
            TakeAck(&ack);
            if (ack.acks_size() > 0) stream_->Write(std::move(ack));
          }
          return;
        }
        transport_->handlers_.deliver(delivery);
        v1::AgentFrame ack;
        ack.mutable_ack()->set_message_id(env.message_id());
        ack.mutable_ack()->set_sender_id(env.sender_id());
        stream_->Write(std::move(ack));
        if (++delivered_since_credit_ >= credit_batch_) {
          v1::AgentFrame credit;
          credit.mutable_credit()->set_credits(delivered_since_credit_);
          delivered_since_credit_ = 0;
          stream_->Write(std::move(credit));
        }
        return;
      }
      case v1::BrokerFrame::kCredit: {
        absl::MutexLock lock(&mu_);
        send_credits_ += frame.credit().credits();
        return;
      }
      case v1::BrokerFrame::kError: {
        const v1::Error& e = frame.error();
        if (!registered_.HasBeenNotified()) {
          Registered(absl::FailedPreconditionError(e.detail()), 0);
          return;
        }
        transport_->handlers_.failed(index_, e.message_id(), v1::ErrorReason_Name(e.reason()));
        return;
      }
      case v1::BrokerFrame::kRegistered:
        lean_ = frame.registered().protocol() >= 2;
        Registered(absl::OkStatus(), frame.registered().send_credits());
        return;
      default:
        return;  // SendResult, SubscribeResult, GoAway
    }
  }

  void Registered(absl::Status status, uint32_t send_credits) {
    {
      absl::MutexLock lock(&mu_);
      register_status_ = std::move(status);
      send_credits_ = send_credits;
    }
    registered_.Notify();
  }

  const int index_;
  const BrokerTransport* const transport_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Broker::Stub> stub_;
  std::unique_ptr<BidiClient<v1::AgentFrame, v1::BrokerFrame>> stream_;
  std::atomic<uint64_t> seq_{0};
  absl::Notification registered_;
  uint32_t credit_batch_ = 1;
  uint32_t delivered_since_credit_ = 0;  // read side only
  std::atomic<bool> lean_{false};        // revision 2 in use (set at Registered)

  absl::Mutex mu_;
  absl::Status register_status_ ABSL_GUARDED_BY(mu_);
  uint32_t send_credits_ ABSL_GUARDED_BY(mu_) = 0;
  // Revision 2: deliveries not acked yet (requests excluded) and the last delivery_seq.
  uint32_t unacked_ ABSL_GUARDED_BY(mu_) = 0;
  static constexpr size_t kAckBytes = size_t{1} << 20;
  size_t unacked_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t ack_through_ ABSL_GUARDED_BY(mu_) = 0;
};

BrokerTransport::BrokerTransport(Options options) : options_(std::move(options)) {}

BrokerTransport::~BrokerTransport() { Close(); }

absl::Status BrokerTransport::Connect(const std::vector<BusAgent>& agents, BusHandlers handlers) {
  handlers_ = std::move(handlers);
  if (!options_.agent_addresses.empty() && options_.agent_addresses.size() != agents.size()) {
    return absl::InvalidArgumentError("one broker address per agent");
  }
  for (size_t i = 0; i < agents.size(); ++i) {
    agents_.push_back(std::make_unique<Agent>(static_cast<int>(i), this));
    const std::string& address =
        options_.agent_addresses.empty() ? options_.address : options_.agent_addresses[i];
    if (absl::Status s = agents_.back()->Open(agents[i], address, options_); !s.ok()) {
      return absl::Status(s.code(),
                          absl::StrCat("latentbus agent ", agents[i].id, ": ", s.message()));
    }
  }
  if (options_.after_connect) return options_.after_connect();
  return absl::OkStatus();
}

absl::Status BrokerTransport::Send(int from, const v1::Envelope& envelope) {
  return agents_[from]->Send(envelope);
}

absl::Status BrokerTransport::Reply(int from, const BusDelivery& request,
                                    const v1::Envelope& reply) {
  v1::Envelope addressed = reply;
  addressed.mutable_recipient()->set_agent_id(request.reply_to);
  return agents_[from]->Send(addressed);
}

uint64_t BrokerTransport::WireMessages() const {
  uint64_t n = 0;
  for (const auto& a : agents_) n += a->messages();
  return n;
}

void BrokerTransport::Close() {
  for (auto& a : agents_) a->Close();
  agents_.clear();
}

}  // namespace latentbus::bench
