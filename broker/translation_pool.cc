#include "broker/translation_pool.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "spdlog/spdlog.h"

namespace latentbus::broker {

TranslationPool::TranslationPool(const Translator* translator, Options options, Metrics* metrics)
    : translator_(translator),
      options_(options),
      threads_(options.threads < 1 ? 1 : options.threads),
      metrics_(metrics) {
  absl::MutexLock lock(&shutdown_mu_);
  workers_.reserve(threads_);
  for (int i = 0; i < threads_; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

TranslationPool::~TranslationPool() { Shutdown(); }

absl::Status TranslationPool::Submit(std::shared_ptr<const Bridge> bridge,
                                     std::shared_ptr<const AcceptedLatent> latent,
                                     TranslationTarget target, Done done, bool may_run_inline) {
  const bool small = may_run_inline && latent->values.rows() <= options_.inline_max_tokens;
  {
    absl::MutexLock lock(&mu_);
    if (stop_) return absl::FailedPreconditionError("translation pool is shut down");
    if (!small || !queue_.empty() || running_ >= threads_) {
      if (queue_.size() >= options_.max_pending) {
        return absl::ResourceExhaustedError("translation backlog is full");
      }
      const size_t bytes = latent->values.data.size() * sizeof(float);
      if (!queue_.empty() && queue_bytes_ + bytes > options_.max_pending_bytes) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "translation backlog is full (", queue_bytes_, " bytes of latents waiting)"));
      }
      queue_bytes_ += bytes;
      queue_.push_back(
          Job{std::move(bridge), std::move(latent), std::move(target), std::move(done)});
      return absl::OkStatus();
    }
    ++running_;
    ++inline_running_;
    ++inline_count_;
  }
  if (metrics_ != nullptr) metrics_->Increment("latentbus_translations_inline_total");
  std::vector<Job> batch;
  batch.push_back(Job{std::move(bridge), std::move(latent), std::move(target), std::move(done)});
  RunBatch(batch);
  absl::MutexLock lock(&mu_);
  --running_;
  --inline_running_;
  return absl::OkStatus();
}

void TranslationPool::Shutdown() {
  absl::MutexLock shutting_down(&shutdown_mu_);
  std::deque<Job> cancelled;
  {
    absl::MutexLock lock(&mu_);
    if (stop_ && workers_.empty()) return;
    stop_ = true;
    cancelled.swap(queue_);
    queue_bytes_ = 0;
  }
  for (std::thread& t : workers_) {
    if (t.joinable()) t.join();
  }
  workers_.clear();
  {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &TranslationPool::NoneInline));
  }
  for (Job& job : cancelled) job.done(absl::CancelledError("broker shutting down"));
}

size_t TranslationPool::pending() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

size_t TranslationPool::pending_bytes() const {
  absl::MutexLock lock(&mu_);
  return queue_bytes_;
}

uint64_t TranslationPool::inline_count() const {
  absl::MutexLock lock(&mu_);
  return inline_count_;
}

void TranslationPool::WorkerLoop() {
  for (;;) {
    std::vector<Job> batch;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &TranslationPool::HasWorkOrStop));
      if (stop_) return;
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
      for (auto it = queue_.begin(); it != queue_.end() && batch.size() < options_.max_batch;) {
        if (it->bridge == batch.front().bridge && it->target == batch.front().target) {
          batch.push_back(std::move(*it));
          it = queue_.erase(it);
        } else {
          ++it;
        }
      }
      for (const Job& job : batch) queue_bytes_ -= job.bytes();
      ++running_;
    }
    RunBatch(batch);
    absl::MutexLock lock(&mu_);
    --running_;
  }
}

void TranslationPool::RunBatch(std::vector<Job>& batch) {
  std::vector<const AcceptedLatent*> latents;
  latents.reserve(batch.size());
  for (const Job& job : batch) latents.push_back(job.latent.get());
  absl::Time start = absl::Now();
  absl::StatusOr<std::vector<codec::Packet>> result =
      translator_->Translate(*batch.front().bridge, latents, batch.front().target);
  if (result.ok() && result->size() != batch.size()) {
    result = absl::InternalError("translator returned a wrong number of packets");
  }
  if (metrics_ != nullptr) {
    metrics_->Observe("latentbus_translation_seconds", absl::ToDoubleSeconds(absl::Now() - start));
    metrics_->Increment("latentbus_translations_total", {{"result", result.ok() ? "ok" : "error"}},
                        static_cast<double>(batch.size()));
  }
  if (!result.ok()) {
    spdlog::warn("translation failed bridge={} batch={} error={}", batch.front().bridge->info().id,
                 batch.size(), result.status().ToString());
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    if (result.ok()) {
      batch[i].done(std::move((*result)[i]));
    } else {
      batch[i].done(result.status());
    }
  }
}

}  // namespace latentbus::broker
