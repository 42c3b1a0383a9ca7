// A SpanProcessor that keeps every ended span in memory, for tests that check which spans
// a component records (header-only; no library links it).
//
// Thread safety: safe for concurrent use.
#ifndef LATENTBUS_TELEMETRY_SPAN_COLLECTOR_H_
#define LATENTBUS_TELEMETRY_SPAN_COLLECTOR_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "telemetry/span_processor.h"

namespace latentbus::telemetry {

class SpanCollector final : public SpanProcessor {
 public:
  void OnEnd(SpanData span) override {
    absl::MutexLock lock(&mu_);
    spans_.push_back(std::move(span));
  }
  bool ForceFlush(absl::Duration) override { return true; }
  void Shutdown(absl::Duration) override {}

  std::vector<SpanData> spans() const {
    absl::MutexLock lock(&mu_);
    return spans_;
  }
  // The spans named `name`, in the order they ended.
  std::vector<SpanData> Named(const std::string& name) const {
    std::vector<SpanData> out;
    for (SpanData& s : spans()) {
      if (s.name == name) out.push_back(std::move(s));
    }
    return out;
  }
  // Waits up to `timeout` until at least `n` spans ended.
  bool Await(size_t n, absl::Duration timeout) const {
    absl::MutexLock lock(&mu_);
    auto enough = [this, n]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return spans_.size() >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<SpanData> spans_ ABSL_GUARDED_BY(mu_);
};

// The value of attribute `key` of `span` as a string ("" when absent; numbers printed).
inline std::string AttributeText(const SpanData& span, const std::string& key) {
  for (const Attribute& a : span.attributes) {
    if (a.key != key) continue;
    if (const auto* s = std::get_if<std::string>(&a.value)) return *s;
    if (const auto* i = std::get_if<int64_t>(&a.value)) return std::to_string(*i);
    if (const auto* b = std::get_if<bool>(&a.value)) return *b ? "true" : "false";
    return std::to_string(std::get<double>(a.value));
  }
  return "";
}

}  // namespace latentbus::telemetry

#endif  // LATENTBUS_TELEMETRY_SPAN_COLLECTOR_H_
