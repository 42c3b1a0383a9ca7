// The in-memory DeliveryLayer (broker/delivery.h): one broker process, nothing
// durable. Messages survive a recipient's reconnect, not a broker restart.
//
// Thread safety: safe for concurrent use (one internal mutex). Sessions are pushed to
// while that mutex is held (see the DeliveryLayer contract).
#ifndef LATENTBUS_BROKER_IN_MEMORY_DELIVERY_H_
#define LATENTBUS_BROKER_IN_MEMORY_DELIVERY_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/numeric/int128.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "broker/delivery.h"
#include "broker/metrics.h"
#include "telemetry/tracer.h"

namespace latentbus::broker {

class InMemoryDelivery final : public DeliveryLayer {
 public:
  struct Options {
    uint32_t max_queue_depth = 1024;
    uint32_t dedup_window = 4096;
    uint64_t max_queue_bytes = uint64_t{64} << 20;  // per recipient
    uint64_t max_total_bytes = uint64_t{1} << 30;   // all recipients together
    absl::Duration absent_retention = absl::Hours(1);
  };
  // What one queued message is charged: its serialized size plus this (the entry, its
  // key, the envelope's in-memory overhead).
  static constexpr uint64_t kEntryOverhead = 512;
  // `metrics` and `tracer` may be null; they must outlive this object.
  InMemoryDelivery(Options options, Metrics* metrics, telemetry::Tracer* tracer = nullptr);

  absl::Status Enqueue(const std::string& recipient, QueuedMessage message) override;
  uint32_t Attach(const std::string& recipient, std::shared_ptr<AgentSession> session,
                  uint32_t credits) override;
  void Detach(const std::string& recipient, const AgentSession* session) override;
  void AddCredits(const std::string& recipient, const AgentSession* session,
                  uint32_t credits) override;
  void Resume(const std::string& recipient, const AgentSession* session) override;
  absl::Status Ack(const std::string& recipient, const std::string& sender_id,
                   const std::string& message_id) override;
  size_t AckThrough(const std::string& recipient, const AgentSession* session,
                    uint64_t delivery_seq) override;
  bool Expire(const std::string& recipient, const std::string& sender_id,
              const std::string& message_id) override;
  uint32_t Pending(const std::string& recipient) const override;
  std::vector<RecipientStats> Stats() const override;
  size_t ReleaseAbsent(absl::Time now) override;
  uint64_t total_bytes() const;
  bool AwaitEmpty(absl::Time deadline) override;

 private:
  struct Entry {
    QueuedMessage message;
    std::string key;            // sender_id '\0' message_id
    uint32_t attempts = 0;      // times handed to a session
    uint64_t bytes = 0;         // charged against the budgets
    uint64_t delivery_seq = 0;  // on the session it was last handed to
  };
  struct Recipient {
    std::deque<Entry> queue;
    std::deque<Entry> unacked;  // in delivery order
    std::shared_ptr<AgentSession> session;
    uint32_t credits = 0;
    bool acks_return_credits = false;  // the session's AcksReturnCredits()
    uint64_t last_delivery_seq = 0;    // of the current session
    // The dedup window: fingerprints of the (sender, message id) keys, oldest first.
    absl::flat_hash_set<absl::uint128> seen;
    std::deque<absl::uint128> seen_order;
    uint64_t bytes = 0;                              // queued + unacked
    absl::Time absent_since = absl::InfinitePast();  // no session since (never attached: created)
  };

  // What the dedup window remembers of `key`: its XXH3-128 under a seed drawn at start,
  // 16 bytes whatever the ids' length (a window of 4096 keys of 513 bytes, kept twice,
  // took 4.5 MB a recipient), and no collision can be aimed without the seed.
  absl::uint128 Fingerprint(const std::string& key) const;
  void Pump(const std::string& id, Recipient& r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Forgets the delivered entry `e` of r.unacked after its ack and gives its credit back
  // when the session asked for that (the caller pumps); returns the next entry.
  std::deque<Entry>::iterator Acked(Recipient& r, std::deque<Entry>::iterator e)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RequeueUnacked(Recipient& r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MaybeErase(const std::string& id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // QUEUE_FULL naming the bound `bytes` more would pass (messages, the recipient's bytes,
  // the broker's bytes); OK when there is room.
  absl::Status RoomFor(const Recipient& r, const std::string& recipient, uint64_t bytes) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Forgets `e` (acked, expired or released): budgets and counts.
  void Discharge(Recipient& r, const Entry& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Empty() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return total_pending_ == 0; }
  // Nothing queued or unacked for a recipient with a session (AwaitEmpty).
  bool ConnectedEmpty() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  const uint64_t seed_;  // of Fingerprint
  Metrics* const metrics_;
  telemetry::Tracer* const tracer_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Recipient> recipients_ ABSL_GUARDED_BY(mu_);
  uint64_t total_pending_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t total_bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_IN_MEMORY_DELIVERY_H_
