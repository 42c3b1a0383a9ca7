// Worker threads that run translations off the gRPC threads.
//
// Submit queues one accepted latent for one receiver. A worker takes the oldest job plus every
// other queued job with the same bridge and target (up to max_batch) and hands them to
// the Translator as one batch, so packets sharing a bridge are translated together.
// Each job's callback runs exactly once, on a worker thread, with the translated packet
// or the batch's error; jobs still queued at Shutdown get CANCELLED.
//
// Thread safety: Submit and Shutdown are safe for concurrent use. Callbacks must not
// block for long (they run on the pool's threads).
#ifndef LATENTBUS_BROKER_TRANSLATION_POOL_H_
#define LATENTBUS_BROKER_TRANSLATION_POOL_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "broker/bridge.h"
#include "broker/metrics.h"
#include "broker/translator.h"
#include "codec/packet.h"

namespace latentbus::broker {

class TranslationPool {
 public:
  struct Options {
    int threads = 2;
    size_t max_batch = 32;
    size_t max_pending = 4096;
  };
  using Done = std::function<void(absl::StatusOr<codec::Packet>)>;

  // `translator` and `metrics` (may be null) must outlive the pool.
  TranslationPool(const Translator* translator, Options options, Metrics* metrics);
  ~TranslationPool();  // Shutdown()

  // RESOURCE_EXHAUSTED when max_pending jobs are queued, FAILED_PRECONDITION after
  // Shutdown; `done` is then not called.
  absl::Status Submit(std::shared_ptr<const Bridge> bridge,
                      std::shared_ptr<const AcceptedLatent> latent, TranslationTarget target,
                      Done done);

  // Stops the workers after their current batch; cancels queued jobs. Idempotent.
  void Shutdown();

  size_t pending() const;

 private:
  struct Job {
    std::shared_ptr<const Bridge> bridge;
    std::shared_ptr<const AcceptedLatent> latent;
    TranslationTarget target;
    Done done;
  };
  void WorkerLoop();
  bool HasWorkOrStop() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || !queue_.empty(); }

  const Translator* const translator_;
  const Options options_;
  Metrics* const metrics_;
  mutable absl::Mutex mu_;
  std::deque<Job> queue_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_TRANSLATION_POOL_H_
