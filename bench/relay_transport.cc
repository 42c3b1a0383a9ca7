#include "bench/relay_transport.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "bench/bidi_client.h"
#include "bench/relay.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace latentbus::bench {

using RelayFrame = relay::RelayFrame;

class RelayTransport::Peer {
 public:
  Peer(int index, RelayTransport* transport) : index_(index), transport_(transport) {}

  void Open(const std::string& address, const std::string& name) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetMaxReceiveMessageSize(-1);
    args.SetMaxSendMessageSize(-1);
    channel_ = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
    stub_ = relay::Relay::NewStub(channel_);
    stream_ = std::make_unique<BidiClient<RelayFrame, RelayFrame>>(
        [this](RelayFrame& frame) { OnFrame(frame); });
    stream_->Start(
        [this](grpc::ClientContext* c, grpc::ClientBidiReactor<RelayFrame, RelayFrame>* r) {
          stub_->async()->Connect(c, r);
        });
    RelayFrame hello;
    hello.set_from(name);
    stream_->Write(std::move(hello));
  }

  bool Write(RelayFrame frame) { return stream_->Write(std::move(frame)); }
  uint64_t messages() const { return stream_ ? stream_->messages() : 0; }

  void Close() {
    if (stream_) {
      stream_->Cancel();
      stream_->AwaitDone(absl::Seconds(10));
    }
  }

 private:
  void OnFrame(RelayFrame& frame) {
    if (!envelope_.ParseFromString(frame.body())) {
      transport_->handlers_.failed(index_, "", "unparseable");
      return;
    }
    BusDelivery delivery{index_, &envelope_, frame.from()};
    transport_->handlers_.deliver(delivery);
  }

  const int index_;
  RelayTransport* const transport_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<relay::Relay::Stub> stub_;
  std::unique_ptr<BidiClient<RelayFrame, RelayFrame>> stream_;
  v1::Envelope envelope_;  // read side only
};

RelayTransport::RelayTransport(std::string address) : address_(std::move(address)) {}

RelayTransport::~RelayTransport() { Close(); }

absl::Status RelayTransport::Connect(const std::vector<BusAgent>& agents, BusHandlers handlers) {
  handlers_ = std::move(handlers);
  for (size_t i = 0; i < agents.size(); ++i) {
    names_.push_back(agents[i].id);
    for (const std::string& t : agents[i].topics) subscribers_[t].push_back(agents[i].id);
    peers_.push_back(std::make_unique<Peer>(static_cast<int>(i), this));
    peers_.back()->Open(address_, agents[i].id);
  }
  // The relay has no acknowledgement of the first frame: a round trip from every peer
  // to itself shows the hello has been processed before it.
  absl::Mutex mu;
  int echoed = 0;
  BusHandlers real = handlers_;
  handlers_.deliver = [&](const BusDelivery&) {
    absl::MutexLock lock(&mu);
    ++echoed;
  };
  for (size_t i = 0; i < agents.size(); ++i) {
    v1::Envelope ping;
    ping.set_message_id("hello");
    if (absl::Status s = SendTo(static_cast<int>(i), {names_[i]}, ping); !s.ok()) return s;
  }
  const int want = static_cast<int>(agents.size());
  absl::MutexLock lock(&mu);
  auto all_echoed = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return echoed >= want; };
  const bool ready = mu.AwaitWithTimeout(absl::Condition(&all_echoed), absl::Seconds(10));
  handlers_ = std::move(real);
  if (!ready) return absl::DeadlineExceededError("relay peers did not come up");
  return absl::OkStatus();
}

absl::Status RelayTransport::SendTo(int from, std::vector<std::string> to,
                                    const v1::Envelope& envelope) {
  RelayFrame frame;
  for (std::string& t : to) frame.add_to(std::move(t));
  frame.set_from(names_[from]);
  envelope.SerializeToString(frame.mutable_body());
  if (!peers_[from]->Write(std::move(frame))) return absl::UnavailableError("relay stream ended");
  return absl::OkStatus();
}

absl::Status RelayTransport::Send(int from, const v1::Envelope& envelope) {
  if (envelope.recipient().target_case() == v1::Address::kTopic) {
    auto it = subscribers_.find(envelope.recipient().topic());
    std::vector<std::string> to;
    if (it != subscribers_.end()) {
      for (const std::string& s : it->second) {
        if (s != names_[from]) to.push_back(s);
      }
    }
    return SendTo(from, std::move(to), envelope);
  }
  return SendTo(from, {envelope.recipient().agent_id()}, envelope);
}

absl::Status RelayTransport::Reply(int from, const BusDelivery& request,
                                   const v1::Envelope& reply) {
  return SendTo(from, {request.reply_to}, reply);
}

uint64_t RelayTransport::WireMessages() const {
  uint64_t n = 0;
  for (const auto& p : peers_) n += p->messages();
  return n;
}

void RelayTransport::Close() {
  for (auto& p : peers_) p->Close();
  peers_.clear();
}

}  // namespace latentbus::bench
