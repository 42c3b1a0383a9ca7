// The client end of a bidirectional stream on the gRPC callback API, for the bench's
// simulated agents (the broker's Connect stream and the relay's): one outstanding write
// fed from a queue (OnWriteDone starts the next), and a read loop that hands every
// incoming frame to `on_frame`.
//
// Life cycle: construct, then Start(bind) where `bind` attaches this reactor to the call
// (e.g. `stub->async()->Connect(context, reactor)`); Cancel() ends it; AwaitDone waits for
// gRPC's OnDone. The object must not be destroyed before OnDone has run (the destructor
// cancels and waits).
//
// Thread safety: Write may be called from any thread, also from inside `on_frame`.
// `on_frame` runs on gRPC's callback threads, one frame at a time for this stream.
#ifndef LATENTBUS_BENCH_BIDI_CLIENT_H_
#define LATENTBUS_BENCH_BIDI_CLIENT_H_

#include <atomic>
#include <deque>
#include <functional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/support/client_callback.h"

namespace latentbus::bench {

template <typename Out, typename In>
class BidiClient final : public grpc::ClientBidiReactor<Out, In> {
 public:
  using OnFrame = std::function<void(In& frame)>;
  // Runs once, from gRPC's OnDone, with the stream's final status.
  using OnEnd = std::function<void(const grpc::Status& status)>;
  using Bind = std::function<void(grpc::ClientContext*, grpc::ClientBidiReactor<Out, In>*)>;

  explicit BidiClient(OnFrame on_frame, OnEnd on_end = nullptr)
      : on_frame_(std::move(on_frame)), on_end_(std::move(on_end)) {}
  ~BidiClient() override {
    Cancel();
    AwaitDone(absl::InfiniteDuration());
  }
  BidiClient(const BidiClient&) = delete;
  BidiClient& operator=(const BidiClient&) = delete;

  grpc::ClientContext& context() { return context_; }

  void Start(const Bind& bind) {
    bind(&context_, this);
    this->StartRead(&in_);
    {
      absl::MutexLock lock(&mu_);
      started_ = true;
    }
    this->StartCall();
  }

  // Queues `frame`; false once the stream has ended.
  bool Write(Out frame) {
    const Out* next = nullptr;
    {
      absl::MutexLock lock(&mu_);
      if (done_ || broken_) return false;
      outbox_.push_back(std::move(frame));
      messages_.fetch_add(1, std::memory_order_relaxed);
      if (writing_) return true;
      writing_ = true;
      next = &outbox_.front();
    }
    this->StartWrite(next);
    return true;
  }

  void Cancel() { context_.TryCancel(); }

  // Messages written (queued) plus messages read on this stream so far.
  uint64_t messages() const { return messages_.load(std::memory_order_relaxed); }

  // True when OnDone ran within `timeout` (or had run already).
  bool AwaitDone(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    if (!started_) return true;
    return mu_.AwaitWithTimeout(absl::Condition(&done_), timeout);
  }

  grpc::Status status() {
    absl::MutexLock lock(&mu_);
    return status_;
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // the stream ended; OnDone follows
    messages_.fetch_add(1, std::memory_order_relaxed);
    on_frame_(in_);
    in_.Clear();
    this->StartRead(&in_);
  }

  void OnWriteDone(bool ok) override {
    const Out* next = nullptr;
    {
      absl::MutexLock lock(&mu_);
      outbox_.pop_front();
      if (!ok) {
        broken_ = true;
        outbox_.clear();
      }
      if (!outbox_.empty()) {
        next = &outbox_.front();
      } else {
        writing_ = false;
      }
    }
    if (next != nullptr) this->StartWrite(next);
  }

  void OnDone(const grpc::Status& status) override {
    if (on_end_) on_end_(status);
    absl::MutexLock lock(&mu_);
    status_ = status;
    done_ = true;
  }

 private:
  const OnFrame on_frame_;
  const OnEnd on_end_;
  grpc::ClientContext context_;
  In in_;  // read side: touched by OnReadDone only
  std::atomic<uint64_t> messages_{0};

  absl::Mutex mu_;
  std::deque<Out> outbox_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace latentbus::bench

#endif  // LATENTBUS_BENCH_BIDI_CLIENT_H_
