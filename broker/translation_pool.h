// Worker threads that run translations off the gRPC threads.
//
// Submit queues one accepted latent for one receiver. A worker takes the oldest job plus every
// other queued job with the same bridge and target (up to max_batch) and hands them to
// the Translator as one batch, so packets sharing a bridge are translated together.
//
// Inline translation: handing a job to a worker costs a wake-up and a thread switch, as
// much as a small int8 translation itself on a busy machine. So when the caller allows it,
// nothing is queued, a translation slot is free (at most `threads` translations run at
// once, workers and inline ones together) and the packet has at most inline_max_tokens
// rows, Submit translates on the calling thread and calls `done` before it returns. Under
// load the queue is not empty and jobs batch on the workers as before.
//
// Each job's callback runs exactly once: on a worker thread, or on the submitting thread
// inside Submit when run inline, with the translated packet or the batch's error; jobs
// still queued at Shutdown get CANCELLED.
//
// Thread safety: Submit and Shutdown are safe for concurrent use. Callbacks must not
// block for long (they run on the pool's threads or the submitter's).
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
    // Largest packet (rows = tokens) Submit may translate on the caller's thread; 0: never.
    size_t inline_max_tokens = 0;
    // Bytes of decoded latents (4 per value) the queued jobs may hold; a job that alone
    // is larger still runs when nothing else waits. An int4 latent decodes to 8x its
    // wire size, so the count alone let a backlog hold many GiB.
    size_t max_pending_bytes = size_t{256} << 20;
  };
  using Done = std::function<void(absl::StatusOr<codec::Packet>)>;

  // `translator` and `metrics` (may be null) must outlive the pool.
  TranslationPool(const Translator* translator, Options options, Metrics* metrics);
  ~TranslationPool();  // Shutdown()

  // RESOURCE_EXHAUSTED when max_pending jobs, or max_pending_bytes of their latents, are
  // queued, FAILED_PRECONDITION after
  // Shutdown; `done` is then not called. With `may_run_inline` the job may run on this
  // thread (see above); `done` has then been called when Submit returns OK.
  absl::Status Submit(std::shared_ptr<const Bridge> bridge,
                      std::shared_ptr<const AcceptedLatent> latent, TranslationTarget target,
                      Done done, bool may_run_inline = false);

  // Stops the workers after their current batch, waits for inline translations to end;
  // cancels queued jobs. Idempotent.
  void Shutdown();

  size_t pending() const;
  // Bytes of decoded latents the queued jobs hold (each job counts its latent).
  size_t pending_bytes() const;
  // Jobs translated on the submitting thread so far.
  uint64_t inline_count() const;

 private:
  struct Job {
    std::shared_ptr<const Bridge> bridge;
    std::shared_ptr<const AcceptedLatent> latent;
    TranslationTarget target;
    Done done;
    size_t bytes() const { return latent->values.data.size() * sizeof(float); }
  };
  void WorkerLoop();
  // Translates the batch (jobs sharing bridge and target), records metrics, calls every
  // job's callback.
  void RunBatch(std::vector<Job>& batch);
  bool HasWorkOrStop() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stop_ || (!queue_.empty() && running_ < threads_);
  }
  bool NoneInline() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return inline_running_ == 0; }

  const Translator* const translator_;
  const Options options_;
  const int threads_;
  Metrics* const metrics_;
  mutable absl::Mutex mu_;
  std::deque<Job> queue_ ABSL_GUARDED_BY(mu_);
  size_t queue_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  int running_ ABSL_GUARDED_BY(mu_) = 0;  // translations under way, workers' and inline
  int inline_running_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t inline_count_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Mutex shutdown_mu_;  // one Shutdown at a time; a second waits for the first
  std::vector<std::thread> workers_ ABSL_GUARDED_BY(shutdown_mu_);
};

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_TRANSLATION_POOL_H_
