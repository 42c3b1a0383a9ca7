#include "bench/relay_server.h"

#include <chrono>
#include <deque>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "bench/relay.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace latentbus::bench {

using RelayFrame = relay::RelayFrame;

class RelayStream;

class RelayService final : public relay::Relay::CallbackService {
 public:
  grpc::ServerBidiReactor<RelayFrame, RelayFrame>* Connect(
      grpc::CallbackServerContext* context) override;

  void Add(const std::string& name, std::shared_ptr<RelayStream> stream) {
    absl::MutexLock lock(&mu_);
    peers_[name] = std::move(stream);
  }
  void Remove(const std::string& name, const RelayStream* stream) {
    absl::MutexLock lock(&mu_);
    auto it = peers_.find(name);
    if (it != peers_.end() && it->second.get() == stream) peers_.erase(it);
  }
  std::shared_ptr<RelayStream> Find(const std::string& name) {
    absl::ReaderMutexLock lock(&mu_);
    auto it = peers_.find(name);
    return it == peers_.end() ? nullptr : it->second;
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<RelayStream>> peers_ ABSL_GUARDED_BY(mu_);
};

// One peer's stream: the first frame names it, later frames are forwarded.
class RelayStream final : public grpc::ServerBidiReactor<RelayFrame, RelayFrame>,
                          public std::enable_shared_from_this<RelayStream> {
 public:
  explicit RelayStream(RelayService* service) : service_(service) {}

  static RelayStream* Create(RelayService* service) {
    auto stream = std::make_shared<RelayStream>(service);
    stream->self_ = stream;
    stream->StartRead(&stream->in_);
    return stream.get();
  }

  // Queues `frame` for this peer; false once the stream is ending.
  bool Push(RelayFrame frame) {
    const RelayFrame* next = nullptr;
    {
      absl::MutexLock lock(&mu_);
      if (finishing_) return false;
      outbox_.push_back(std::move(frame));
      if (writing_) return true;
      writing_ = true;
      next = &outbox_.front();
    }
    StartWrite(next);
    return true;
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      EndAfterFlush();
      return;
    }
    if (name_.empty()) {
      name_ = in_.from();
      if (name_.empty()) name_ = "?";
      service_->Add(name_, shared_from_this());
    } else {
      Forward();
    }
    in_.Clear();
    StartRead(&in_);
  }

  void OnWriteDone(bool ok) override {
    const RelayFrame* next = nullptr;
    bool finish = false;
    {
      absl::MutexLock lock(&mu_);
      outbox_.pop_front();
      if (!ok) {
        outbox_.clear();
        finishing_ = true;
      }
      if (!outbox_.empty()) {
        next = &outbox_.front();
      } else {
        writing_ = false;
        finish = finishing_ && !finish_called_;
        if (finish) finish_called_ = true;
      }
    }
    if (next != nullptr) StartWrite(next);
    if (finish) Finish(grpc::Status::OK);
  }

  void OnDone() override {
    if (!name_.empty()) service_->Remove(name_, this);
    std::shared_ptr<RelayStream> keep = std::move(self_);  // may destroy *this on return
  }

 private:
  void Forward() {
    const int n = in_.to_size();
    for (int i = 0; i < n; ++i) {
      std::shared_ptr<RelayStream> peer = service_->Find(in_.to(i));
      if (!peer) continue;
      if (i + 1 == n) {
        peer->Push(std::move(in_));
        return;
      }
      peer->Push(in_);
    }
  }

  void EndAfterFlush() {
    {
      absl::MutexLock lock(&mu_);
      finishing_ = true;
      if (writing_ || finish_called_) return;  // OnWriteDone finishes
      finish_called_ = true;
    }
    Finish(grpc::Status::OK);
  }

  RelayService* const service_;
  std::shared_ptr<RelayStream> self_;
  RelayFrame in_;     // read side: touched by OnReadDone only
  std::string name_;  // set by the first frame, read in OnDone

  absl::Mutex mu_;
  std::deque<RelayFrame> outbox_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_called_ ABSL_GUARDED_BY(mu_) = false;
};

grpc::ServerBidiReactor<RelayFrame, RelayFrame>* RelayService::Connect(
    grpc::CallbackServerContext* /*context*/) {
  return RelayStream::Create(this);
}

absl::StatusOr<std::unique_ptr<RelayServer>> RelayServer::Start(const std::string& address) {
  std::unique_ptr<RelayServer> server(new RelayServer());
  server->service_ = std::make_unique<RelayService>();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &server->port_);
  builder.RegisterService(server->service_.get());
  builder.SetMaxReceiveMessageSize(-1);
  builder.SetMaxSendMessageSize(-1);
  server->server_ = builder.BuildAndStart();
  if (!server->server_ || server->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("relay cannot listen on ", address));
  }
  return server;
}

RelayServer::~RelayServer() { Shutdown(); }

void RelayServer::Shutdown() {
  if (!server_) return;
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
  server_->Wait();
  server_.reset();
}

}  // namespace latentbus::bench
