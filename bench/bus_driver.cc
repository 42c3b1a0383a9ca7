#include "bench/bus_driver.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <random>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace latentbus::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Closed loop: a window slot whose message has not completed after this long is freed.
constexpr int64_t kLostAfterNs = 1'000'000'000;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// Message ids: "<kind><tag>-<seq>", kind 'm' for messages and 'r' for replies; the tag
// keeps ids unique across runs against one long-lived broker (it deduplicates by id).
bool ParseSeq(const std::string& id, uint64_t* seq) {
  const size_t dash = id.rfind('-');
  if (dash == std::string::npos) return false;
  return absl::SimpleAtoi(absl::string_view(id).substr(dash + 1), seq);
}

// One run of a workload: the state the sender threads and the transport's handler
// threads share.
class Run {
 public:
  Run(BusTransport& transport, const std::vector<BusAgent>& agents, const Workload& w,
      const v1::Envelope& payload)
      : transport_(transport), agents_(agents), w_(w), payload_(payload) {
    std::random_device rd;
    tag_ = absl::StrFormat("%06x", rd() & 0xffffff);
    const int n = static_cast<int>(agents.size());
    pairs_ = w.mode == BusMode::kTopic ? 1 : n / 2;
    fanout_ = w.mode == BusMode::kTopic ? n - 1 : 1;
    for (int i = 0; i < pairs_; ++i) senders_.push_back(std::make_unique<Sender>());
    for (int i = 0; i < n; ++i) recorders_.push_back(std::make_unique<Recorder>());
  }

  absl::StatusOr<PhaseResult> Execute() {
    BusHandlers handlers;
    handlers.deliver = [this](const BusDelivery& d) { OnDeliver(d); };
    handlers.failed = [this](int agent, const std::string& id, const std::string& reason) {
      OnFailed(agent, id, reason);
    };
    if (absl::Status s = transport_.Connect(agents_, std::move(handlers)); !s.ok()) {
      transport_.Close();
      return s;
    }
    start_ns_ = NowNs();
    measure_start_ns_ = start_ns_ + static_cast<int64_t>(w_.warmup_seconds * 1e9);
    measure_end_ns_ = measure_start_ns_ + static_cast<int64_t>(w_.duration_seconds * 1e9);
    std::vector<std::thread> threads;
    for (int i = 0; i < pairs_; ++i) threads.emplace_back([this, i] { SendLoop(i); });
    for (std::thread& t : threads) t.join();
    Drain();
    const uint64_t wire = transport_.WireMessages();
    transport_.Close();
    PhaseResult r = Result();
    r.wire_messages = wire;
    return r;
  }

 private:
  struct Sender {
    absl::Mutex mu;
    int64_t in_flight ABSL_GUARDED_BY(mu) = 0;
    // Topic pattern: deliveries still due per message seq.
    absl::flat_hash_map<uint64_t, int> remaining ABSL_GUARDED_BY(mu);
  };
  struct Recorder {
    absl::Mutex mu;
    LatencyHistogram latency ABSL_GUARDED_BY(mu);
  };

  bool InWindow(int64_t t0) const { return t0 >= measure_start_ns_ && t0 < measure_end_ns_; }
  bool IsResponder(int agent) const { return w_.mode == BusMode::kRequest && agent >= pairs_; }

  std::string Recipient(int sender) const {
    return w_.mode == BusMode::kTopic ? kBenchTopic : agents_[pairs_ + sender].id;
  }

  void SendLoop(int index) {
    Sender& s = *senders_[index];
    v1::Envelope envelope = payload_;
    if (w_.mode == BusMode::kTopic) {
      envelope.mutable_recipient()->set_topic(kBenchTopic);
    } else {
      envelope.mutable_recipient()->set_agent_id(Recipient(index));
    }
    envelope.set_expects_reply(w_.mode == BusMode::kRequest);
    const bool open_loop = w_.rate > 0;
    const double interval_ns = open_loop ? 1e9 * pairs_ / w_.rate : 0;
    // Senders start staggered across one interval so open-loop sends do not bunch.
    const int64_t first_ns = start_ns_ + static_cast<int64_t>(interval_ns * index / pairs_);
    auto in_window_capacity = [&s, this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu) {
      return s.in_flight < w_.window;
    };
    for (uint64_t seq = 1;; ++seq) {
      if (open_loop) {
        const int64_t due =
            first_ns + static_cast<int64_t>(interval_ns * static_cast<double>(seq - 1));
        if (due >= measure_end_ns_) break;
        const int64_t wait = due - NowNs();
        if (wait > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
      } else {
        absl::MutexLock lock(&s.mu);
        const int64_t left = std::max<int64_t>(0, measure_end_ns_ - NowNs());
        const bool free_slot =
            s.mu.AwaitWithTimeout(absl::Condition(&in_window_capacity),
                                  absl::Nanoseconds(std::min<int64_t>(left, kLostAfterNs)));
        if (NowNs() >= measure_end_ns_) break;
        if (!free_slot) {
          // Nothing completed for a second: count the oldest message as lost (it shows
          // in `lost` too) rather than stall this sender for the rest of the run.
          --s.in_flight;
          CountReject("no_completion_within_1s");
        }
      }
      const int64_t t0 = NowNs();
      if (!open_loop && t0 >= measure_end_ns_) break;
      envelope.set_message_id(absl::StrCat("m", tag_, "-", seq));
      (*envelope.mutable_metadata())[kSendTimeKey] = absl::StrCat(t0);
      if (w_.mode == BusMode::kRequest) {
        const absl::Time deadline = absl::Now() + absl::Seconds(30);
        envelope.mutable_deadline()->set_seconds(absl::ToUnixSeconds(deadline));
        envelope.mutable_deadline()->set_nanos(0);
      }
      {
        absl::MutexLock lock(&s.mu);
        ++s.in_flight;
        if (w_.mode == BusMode::kTopic) s.remaining[seq] = fanout_;
      }
      if (InWindow(t0)) sent_.fetch_add(1, std::memory_order_relaxed);
      absl::Status status = transport_.Send(index, envelope);
      if (!status.ok()) {
        CountReject(status.code() == absl::StatusCode::kResourceExhausted
                        ? std::string(status.message())
                        : absl::StrCat("send:", absl::StatusCodeToString(status.code())));
        Complete(index, seq);
      }
    }
  }

  // Marks message `seq` of sender `index` as done (delivered everywhere, answered or
  // refused); a topic message only when its last delivery is in.
  void Complete(int index, uint64_t seq, bool one_delivery = false) {
    Sender& s = *senders_[index];
    absl::MutexLock lock(&s.mu);
    if (w_.mode == BusMode::kTopic) {
      auto it = s.remaining.find(seq);
      if (it == s.remaining.end()) return;
      if (one_delivery && --it->second > 0) return;
      s.remaining.erase(it);
    }
    --s.in_flight;
  }

  void OnDeliver(const BusDelivery& d) {
    const v1::Envelope& e = *d.envelope;
    if (IsResponder(d.agent)) {
      v1::Envelope reply;
      reply.set_message_id(absl::StrCat("r", e.message_id().substr(1)));
      reply.set_correlation_id(e.message_id());
      reply.set_message_class(v1::MESSAGE_CLASS_RESULT);
      reply.set_text("ok");
      auto t0 = e.metadata().find(kSendTimeKey);
      if (t0 != e.metadata().end()) (*reply.mutable_metadata())[kSendTimeKey] = t0->second;
      if (absl::Status s = transport_.Reply(d.agent, d, reply); !s.ok()) {
        CountReject(absl::StrCat("reply:", absl::StatusCodeToString(s.code())));
        uint64_t seq;
        if (ParseSeq(e.message_id(), &seq)) Complete(d.agent - pairs_, seq);
      }
      return;
    }
    const int64_t now = NowNs();
    auto t0_entry = e.metadata().find(kSendTimeKey);
    int64_t t0 = 0;
    if (t0_entry == e.metadata().end() || !absl::SimpleAtoi(t0_entry->second, &t0)) return;
    completed_all_.fetch_add(1, std::memory_order_relaxed);
    if (InWindow(t0)) {
      Recorder& r = *recorders_[d.agent];
      absl::MutexLock lock(&r.mu);
      r.latency.Record(static_cast<uint64_t>(std::max<int64_t>(0, now - t0)));
    }
    uint64_t seq = 0;
    const std::string& id = w_.mode == BusMode::kRequest ? e.correlation_id() : e.message_id();
    if (!ParseSeq(id, &seq)) return;
    const int sender = w_.mode == BusMode::kDirect  ? d.agent - pairs_
                       : w_.mode == BusMode::kTopic ? 0
                                                    : d.agent;
    if (sender < 0 || sender >= pairs_) return;
    Complete(sender, seq, /*one_delivery=*/true);
  }

  void OnFailed(int agent, const std::string& message_id, const std::string& reason) {
    CountReject(reason);
    uint64_t seq;
    if (message_id.empty() || !ParseSeq(message_id, &seq)) return;
    if (message_id[0] == 'm' && agent < pairs_) {
      Complete(agent, seq);  // a refused topic message: its other deliveries are not awaited
    } else if (message_id[0] == 'r' && IsResponder(agent)) {
      Complete(agent - pairs_, seq);
    }
  }

  void CountReject(const std::string& reason) {
    absl::MutexLock lock(&rejects_mu_);
    ++rejects_[reason];
  }

  int64_t InFlight() {
    int64_t total = 0;
    for (auto& s : senders_) {
      absl::MutexLock lock(&s->mu);
      total += s->in_flight;
    }
    return total;
  }

  void Drain() {
    const int64_t until = NowNs() + static_cast<int64_t>(w_.drain_seconds * 1e9);
    while (InFlight() > 0 && NowNs() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  PhaseResult Result() {
    PhaseResult r;
    for (auto& rec : recorders_) {
      absl::MutexLock lock(&rec->mu);
      r.latency.Merge(rec->latency);
    }
    r.sent = sent_.load();
    r.expected = r.sent * static_cast<uint64_t>(fanout_);
    r.completed = r.latency.count();
    r.completed_all = completed_all_.load();
    r.lost = r.expected > r.completed ? r.expected - r.completed : 0;
    r.seconds = w_.duration_seconds;
    r.msgs_per_s = static_cast<double>(r.completed) / r.seconds;
    r.sent_per_s = static_cast<double>(r.sent) / r.seconds;
    absl::MutexLock lock(&rejects_mu_);
    r.rejects = rejects_;
    for (const auto& [reason, n] : rejects_) r.reject_total += n;
    for (const auto& [name, n] : transport_.Counters()) {
      if (n > 0) {
        r.rejects[name] += n;
        r.reject_total += n;
      }
    }
    return r;
  }

  BusTransport& transport_;
  const std::vector<BusAgent>& agents_;
  const Workload w_;
  const v1::Envelope& payload_;
  std::string tag_;
  int pairs_ = 1;
  int fanout_ = 1;
  int64_t start_ns_ = 0;
  int64_t measure_start_ns_ = 0;
  int64_t measure_end_ns_ = 0;
  std::vector<std::unique_ptr<Sender>> senders_;
  std::vector<std::unique_ptr<Recorder>> recorders_;
  std::atomic<uint64_t> sent_{0};
  std::atomic<uint64_t> completed_all_{0};
  absl::Mutex rejects_mu_;
  std::map<std::string, uint64_t> rejects_ ABSL_GUARDED_BY(rejects_mu_);
};

}  // namespace

const char* BusModeName(BusMode mode) {
  switch (mode) {
    case BusMode::kDirect:
      return "direct";
    case BusMode::kTopic:
      return "topic";
    case BusMode::kRequest:
      return "request";
  }
  return "?";
}

absl::StatusOr<BusMode> ParseBusMode(absl::string_view name) {
  if (name == "direct") return BusMode::kDirect;
  if (name == "topic") return BusMode::kTopic;
  if (name == "request") return BusMode::kRequest;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown mode '", name, "' (direct, topic or request)"));
}

absl::Status ValidateWorkload(const Workload& w) {
  if (w.agents < 2) return absl::InvalidArgumentError("the bus bench needs at least 2 agents");
  if (w.mode != BusMode::kTopic && w.agents % 2 != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        BusModeName(w.mode), " pairs senders with receivers: give an even number of agents"));
  }
  if (w.window < 1) return absl::InvalidArgumentError("window must be >= 1");
  if (w.rate < 0) return absl::InvalidArgumentError("rate must be >= 0");
  if (w.duration_seconds <= 0) return absl::InvalidArgumentError("duration must be > 0");
  if (w.warmup_seconds < 0) return absl::InvalidArgumentError("warm-up must be >= 0");
  return absl::OkStatus();
}

std::vector<BusAgent> PlanAgents(const Workload& w, const v1::ModelSpec& sender_model,
                                 const v1::ModelSpec& receiver_model) {
  std::vector<BusAgent> out;
  if (w.mode == BusMode::kTopic) {
    out.push_back(BusAgent{"bench-pub", sender_model, {}});
    for (int i = 1; i < w.agents; ++i) {
      out.push_back(BusAgent{absl::StrCat("bench-sub", i), receiver_model, {kBenchTopic}});
    }
    return out;
  }
  const int pairs = w.agents / 2;
  for (int i = 0; i < pairs; ++i)
    out.push_back(BusAgent{absl::StrCat("bench-s", i), sender_model, {}});
  for (int i = 0; i < pairs; ++i) {
    out.push_back(BusAgent{absl::StrCat("bench-r", i), receiver_model, {}});
  }
  return out;
}

absl::StatusOr<PhaseResult> RunWorkload(BusTransport& transport,
                                        const std::vector<BusAgent>& agents,
                                        const Workload& workload, const v1::Envelope& payload) {
  if (absl::Status s = ValidateWorkload(workload); !s.ok()) return s;
  Run run(transport, agents, workload, payload);
  return run.Execute();
}

}  // namespace latentbus::bench
