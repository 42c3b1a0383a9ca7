#include "broker/in_memory_delivery.h"

#include <xxhash.h>

#include <algorithm>
#include <iterator>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "broker/delivery_trace.h"
#include "broker/errors.h"

namespace latentbus::broker {
namespace {

uint64_t RandomSeed() {
  std::random_device device;
  return (uint64_t{device()} << 32) ^ device();
}

}  // namespace

InMemoryDelivery::InMemoryDelivery(Options options, Metrics* metrics, telemetry::Tracer* tracer)
    : options_(options), seed_(RandomSeed()), metrics_(metrics), tracer_(tracer) {}

absl::uint128 InMemoryDelivery::Fingerprint(const std::string& key) const {
  const XXH128_hash_t h = XXH3_128bits_withSeed(key.data(), key.size(), seed_);
  return absl::MakeUint128(h.high64, h.low64);
}

absl::Status InMemoryDelivery::Enqueue(const std::string& recipient, QueuedMessage message) {
  std::string key = DedupKey(message.envelope->sender_id(), message.envelope->message_id());
  const absl::uint128 fingerprint = Fingerprint(key);
  const uint64_t bytes = message.envelope->ByteSizeLong() + kEntryOverhead;
  absl::MutexLock lock(&mu_);
  auto [slot, created] = recipients_.try_emplace(recipient);
  Recipient& r = slot->second;
  if (created) r.absent_since = absl::Now();  // retention counts from here until Attach
  if (r.seen.contains(fingerprint)) {
    return absl::AlreadyExistsError(absl::StrCat("duplicate message ",
                                                 message.envelope->message_id(), " from ",
                                                 message.envelope->sender_id()));
  }
  if (absl::Status room = RoomFor(r, recipient, bytes); !room.ok()) {
    MaybeErase(recipient);  // a recipient created just now for nothing
    return room;
  }
  if (options_.dedup_window > 0) {
    r.seen.insert(fingerprint);
    r.seen_order.push_back(fingerprint);
    while (r.seen_order.size() > options_.dedup_window) {
      r.seen.erase(r.seen_order.front());
      r.seen_order.pop_front();
    }
  }
  r.queue.push_back(Entry{std::move(message), std::move(key), 0, bytes});
  ++total_pending_;
  r.bytes += bytes;
  total_bytes_ += bytes;
  Pump(recipient, r);
  return absl::OkStatus();
}

absl::Status InMemoryDelivery::RoomFor(const Recipient& r, const std::string& recipient,
                                       uint64_t bytes) const {
  if (r.queue.size() + r.unacked.size() >= options_.max_queue_depth) {
    return BrokerError(v1::QUEUE_FULL,
                       absl::StrCat("queue of ", recipient, " holds ", options_.max_queue_depth,
                                    " messages (queued + unacked)"));
  }
  if (r.bytes + bytes > options_.max_queue_bytes) {
    return BrokerError(
        v1::QUEUE_FULL,
        absl::StrCat("queue of ", recipient, " holds ", r.bytes, " bytes; with ", bytes,
                     " more it would pass its ", options_.max_queue_bytes, "-byte budget"));
  }
  if (total_bytes_ + bytes > options_.max_total_bytes) {
    return BrokerError(
        v1::QUEUE_FULL,
        absl::StrCat("the broker holds ", total_bytes_, " queued bytes; with ", bytes,
                     " more it would pass its ", options_.max_total_bytes, "-byte budget"));
  }
  return absl::OkStatus();
}

uint32_t InMemoryDelivery::Attach(const std::string& recipient,
                                  std::shared_ptr<AgentSession> session, uint32_t credits) {
  absl::MutexLock lock(&mu_);
  Recipient& r = recipients_[recipient];
  RequeueUnacked(r);
  r.acks_return_credits = session->AcksReturnCredits();
  r.session = std::move(session);
  r.credits = credits;
  r.last_delivery_seq = 0;
  r.absent_since = absl::InfiniteFuture();
  auto pending = static_cast<uint32_t>(r.queue.size());
  Pump(recipient, r);
  return pending;
}

void InMemoryDelivery::Detach(const std::string& recipient, const AgentSession* session) {
  absl::MutexLock lock(&mu_);
  auto it = recipients_.find(recipient);
  if (it == recipients_.end() || it->second.session.get() != session) return;
  it->second.session.reset();
  it->second.credits = 0;
  it->second.absent_since = absl::Now();
  RequeueUnacked(it->second);
  MaybeErase(recipient);
}

void InMemoryDelivery::AddCredits(const std::string& recipient, const AgentSession* session,
                                  uint32_t credits) {
  absl::MutexLock lock(&mu_);
  auto it = recipients_.find(recipient);
  if (it == recipients_.end() || it->second.session.get() != session) return;
  Recipient& r = it->second;
  uint64_t total = uint64_t{r.credits} + credits;
  r.credits = total > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(total);
  Pump(recipient, r);
}

void InMemoryDelivery::Resume(const std::string& recipient, const AgentSession* session) {
  absl::MutexLock lock(&mu_);
  auto it = recipients_.find(recipient);
  if (it == recipients_.end() || it->second.session.get() != session) return;
  Pump(recipient, it->second);
}

absl::Status InMemoryDelivery::Ack(const std::string& recipient, const std::string& sender_id,
                                   const std::string& message_id) {
  std::string key = DedupKey(sender_id, message_id);
  absl::MutexLock lock(&mu_);
  auto it = recipients_.find(recipient);
  if (it != recipients_.end()) {
    Recipient& r = it->second;
    for (auto e = r.unacked.begin(); e != r.unacked.end(); ++e) {
      if (e->key == key) {
        Acked(r, e);
        Pump(recipient, r);
        MaybeErase(recipient);
        return absl::OkStatus();
      }
    }
    // A queued entry can be acked only if it was delivered before (a redelivery waiting
    // for the new stream, whose ack from the old stream arrives late): no credit back,
    // the credits are the new stream's.
    for (auto e = r.queue.begin(); e != r.queue.end(); ++e) {
      if (e->key == key && e->attempts > 0) {
        Discharge(r, *e);
        r.queue.erase(e);
        MaybeErase(recipient);
        return absl::OkStatus();
      }
    }
  }
  return absl::NotFoundError(
      absl::StrCat("no unacked message ", message_id, " from ", sender_id, " for ", recipient));
}

size_t InMemoryDelivery::AckThrough(const std::string& recipient, const AgentSession* session,
                                    uint64_t delivery_seq) {
  absl::MutexLock lock(&mu_);
  auto it = recipients_.find(recipient);
  if (it == recipients_.end() || it->second.session.get() != session) return 0;
  Recipient& r = it->second;
  size_t acked = 0;
  for (auto e = r.unacked.begin(); e != r.unacked.end();) {
    if (e->delivery_seq <= delivery_seq) {
      e = Acked(r, e);
      ++acked;
    } else {
      ++e;
    }
  }
  Pump(recipient, r);
  return acked;
}

std::deque<InMemoryDelivery::Entry>::iterator InMemoryDelivery::Acked(
    Recipient& r, std::deque<Entry>::iterator e) {
  Discharge(r, *e);
  if (r.acks_return_credits && r.credits < UINT32_MAX) ++r.credits;
  return r.unacked.erase(e);
}

bool InMemoryDelivery::Expire(const std::string& recipient, const std::string& sender_id,
                              const std::string& message_id) {
  std::string key = DedupKey(sender_id, message_id);
  absl::MutexLock lock(&mu_);
  auto it = recipients_.find(recipient);
  if (it == recipients_.end()) return false;
  Recipient& r = it->second;
  for (auto e = r.queue.begin(); e != r.queue.end(); ++e) {
    if (e->key == key && e->attempts == 0) {
      Discharge(r, *e);
      r.queue.erase(e);
      // The sender may retry with the same id: forget the key in the window's order too,
      // or its stale entry would later evict the retried message's key early.
      const absl::uint128 fingerprint = Fingerprint(key);
      if (r.seen.erase(fingerprint) > 0) {
        auto o = std::find(r.seen_order.rbegin(), r.seen_order.rend(), fingerprint);
        if (o != r.seen_order.rend()) r.seen_order.erase(std::next(o).base());
      }
      MaybeErase(recipient);
      return true;
    }
  }
  return false;
}

uint32_t InMemoryDelivery::Pending(const std::string& recipient) const {
  absl::MutexLock lock(&mu_);
  auto it = recipients_.find(recipient);
  if (it == recipients_.end()) return 0;
  return static_cast<uint32_t>(it->second.queue.size() + it->second.unacked.size());
}

std::vector<RecipientStats> InMemoryDelivery::Stats() const {
  std::vector<RecipientStats> out;
  absl::MutexLock lock(&mu_);
  out.reserve(recipients_.size());
  for (const auto& [id, r] : recipients_) {
    if (!r.session && r.queue.empty() && r.unacked.empty()) continue;
    out.push_back(RecipientStats{id, static_cast<uint32_t>(r.queue.size()),
                                 static_cast<uint32_t>(r.unacked.size()), r.bytes, r.credits,
                                 r.session != nullptr});
  }
  return out;
}

size_t InMemoryDelivery::ReleaseAbsent(absl::Time now) {
  size_t dropped = 0, released = 0;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = recipients_.begin(); it != recipients_.end();) {
      Recipient& r = it->second;
      if (r.session || now - r.absent_since < options_.absent_retention) {
        ++it;
        continue;
      }
      for (const std::deque<Entry>* list : {&r.queue, &r.unacked}) {
        for (const Entry& e : *list) Discharge(r, e);
        dropped += list->size();
      }
      ++released;
      recipients_.erase(it++);
    }
  }
  if (metrics_ != nullptr && released > 0) {
    metrics_->Increment("latentbus_released_recipients_total", {}, static_cast<double>(released));
    metrics_->Increment("latentbus_released_messages_total", {}, static_cast<double>(dropped));
  }
  return dropped;
}

uint64_t InMemoryDelivery::total_bytes() const {
  absl::MutexLock lock(&mu_);
  return total_bytes_;
}

void InMemoryDelivery::Discharge(Recipient& r, const Entry& e) {
  --total_pending_;
  r.bytes -= e.bytes;
  total_bytes_ -= e.bytes;
}

bool InMemoryDelivery::ConnectedEmpty() const {
  if (Empty()) return true;
  for (const auto& [id, r] : recipients_) {
    if (r.session && (!r.queue.empty() || !r.unacked.empty())) return false;
  }
  return true;
}

bool InMemoryDelivery::AwaitEmpty(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithDeadline(absl::Condition(this, &InMemoryDelivery::ConnectedEmpty), deadline);
}

void InMemoryDelivery::Pump(const std::string& id, Recipient& r) {
  absl::Time now = absl::Now();
  while (r.session && r.credits > 0 && !r.queue.empty() && !r.session->Backlogged()) {
    Entry& e = r.queue.front();
    v1::BrokerFrame frame;
    v1::Envelope* env = frame.mutable_deliver()->mutable_envelope();
    *env = *e.message.envelope;
    env->set_delivery_attempt(e.attempts + 1);
    frame.mutable_deliver()->set_delivery_seq(r.last_delivery_seq + 1);
    DeliveryTrace trace(tracer_, e.message.trace, e.message.accepted_at, id, env);
    if (!r.session->Push(std::move(frame))) {
      trace.Failed("the stream is ending");
      break;  // Detach follows
    }
    e.delivery_seq = ++r.last_delivery_seq;
    ++e.attempts;
    --r.credits;
    if (metrics_ != nullptr) {
      metrics_->Increment("latentbus_deliveries_total",
                          {{"form", FormName(e.message.envelope->delivered_form())}});
      if (e.attempts == 1) {
        metrics_->Observe("latentbus_residence_seconds",
                          absl::ToDoubleSeconds(now - e.message.accepted_at));
      } else {
        metrics_->Increment("latentbus_redeliveries_total");
      }
    }
    r.unacked.push_back(std::move(e));
    r.queue.pop_front();
  }
}

void InMemoryDelivery::RequeueUnacked(Recipient& r) {
  while (!r.unacked.empty()) {
    r.queue.push_front(std::move(r.unacked.back()));
    r.unacked.pop_back();
  }
}

void InMemoryDelivery::MaybeErase(const std::string& id) {
  auto it = recipients_.find(id);
  if (it == recipients_.end()) return;
  const Recipient& r = it->second;
  if (!r.session && r.queue.empty() && r.unacked.empty() && r.seen.empty()) {
    recipients_.erase(it);
  }
}

}  // namespace latentbus::broker
