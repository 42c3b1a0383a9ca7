// Routing: from an envelope handed to the broker to one queued delivery per recipient.
//
// Send runs, in order: drain check, envelope validation (size, ids, payload), the
// sender's rate limit, deadline, latent validation against the sender's registered
// ModelSpec, request/reply resolution (a reply without a recipient goes to the agent
// whose pending request it correlates to), recipient resolution (agent id, or the
// topic's subscribers other than the sender; topic ACL), the policy decision per
// recipient (NEEDS_TEXT refuses the whole envelope), then delivery: text recipients
// are enqueued at once, latent recipients after translation in the TranslationPool.
// `done` runs exactly once, when every recipient has an outcome: inline for text-only
// sends, else on a translation worker.
//
// Deadlines: when an accepted envelope's deadline passes, recipients that never got it
// lose it and the sender gets an Error DEADLINE_EXCEEDED frame (agent_ids = those
// recipients); for an envelope with expects_reply, a missing reply gets the same.
//
// Thread safety: safe for concurrent use. The components passed in must outlive the
// router, and the timer and pool must be shut down before it is destroyed.
#ifndef LATENTBUS_BROKER_ROUTER_H_
#define LATENTBUS_BROKER_ROUTER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "broker/agent_registry.h"
#include "broker/auth.h"
#include "broker/config.h"
#include "broker/delivery.h"
#include "broker/metrics.h"
#include "broker/policy.h"
#include "broker/rate_limiter.h"
#include "broker/timer.h"
#include "broker/translation_pool.h"
#include "latentbus/v1/broker.pb.h"
#include "telemetry/tracer.h"

namespace latentbus::broker {

struct SendContext {
  std::string sender_id;  // authenticated: the stream's agent id, or Publish's checked id
  std::shared_ptr<const Principal> principal;
  // The rate limiter's bucket: the principal's name when authentication is on, else the
  // sender id.
  std::string RateKey() const {
    return principal && !principal->anonymous ? "token:" + principal->name : "agent:" + sender_id;
  }
};

// The refusal of a sender (`rate_key`, SendContext::RateKey) over its rate of `what`
// ("messages", ...).
absl::Status RateLimitedError(const std::string& rate_key, double rate_per_second, double burst,
                              absl::string_view what = "messages");

struct SendOutcome {
  std::string message_id;
  // Not OK: the envelope was refused and nothing was delivered; `refused_agents` names
  // the recipients concerned (e.g. those that need text).
  absl::Status refused;
  std::vector<std::string> refused_agents;
  // Recipients that accepted it (duplicates included), with the form each gets.
  std::vector<v1::RecipientOutcome> accepted;
  // Per-recipient failures (QUEUE_FULL, INTERNAL, ...), one Error per reason.
  std::vector<v1::Error> errors;
};

class Router {
 public:
  using Done = std::function<void(SendOutcome)>;

  struct Components {
    AgentRegistry* registry;
    DeliveryLayer* delivery;
    const Policy* policy;
    TranslationPool* pool;
    Timer* timer;
    Metrics* metrics;
    RateLimiter* rate_limiter;
    // Null: tracing off. Else the broker's spans of each message (broker/send_trace.h).
    telemetry::Tracer* tracer = nullptr;
  };

  Router(const LimitsConfig& limits, Components components);

  void Send(const SendContext& context, v1::Envelope envelope, Done done);

  // What Send would do for each recipient, without sending.
  v1::RouteQueryResponse Query(const v1::RouteQueryRequest& request,
                               const Principal& principal) const;

  // `reply` was handed to `recipient` (its requester) here, though another broker may have
  // routed it: the request it answers, if pending here and sent to the reply's sender, is
  // answered (no DEADLINE_EXCEEDED for a missing reply).
  void ReplyDelivered(const std::string& recipient, const v1::Envelope& reply);

  // From now on Send refuses with DRAINING.
  void SetDraining() { draining_.store(true); }
  bool draining() const { return draining_.load(); }

 private:
  struct Target {
    AgentRecord agent;
    Decision decision;
  };
  struct Tracker;
  // A request awaiting its reply, keyed by (requester, message id): message ids are
  // scoped to their sender, so two agents may use the same one.
  using RequestKey = std::pair<std::string, std::string>;
  struct PendingRequest {
    std::vector<std::string> responders;  // the agents it was sent to: the only ones that
                                          // may answer it
    Timer::Handle deadline;               // its deadline's callback, once scheduled
  };

  // Recipients for `address` as seen from `sender_id`, or NO_ROUTE / PERMISSION_DENIED
  // (topic ACL; for an agent id the principal's send_to, unless `reply`: the answer to a
  // request the recipient made).
  absl::StatusOr<std::vector<AgentRecord>> Resolve(const v1::Address& address,
                                                   const std::string& sender_id,
                                                   const Principal& principal,
                                                   bool reply = false) const;
  void Refuse(const std::string& message_id, absl::Status status, std::vector<std::string> agents,
              const Done& done);
  // For an envelope with a correlation id: when it answers a pending request, checks that
  // the sender is one the request went to (PERMISSION_DENIED otherwise) and fills in the
  // requester when the reply names no recipient (NO_ROUTE when no request matches,
  // INVALID_ARGUMENT when several requesters used that id). `answers` is set to the
  // request the envelope answers. The request stays pending: Send retires it only once the
  // reply is accepted, so a reply refused (NEEDS_TEXT, a full queue, ...) can be resent as
  // the same reply, and the requester still hears of a deadline when none ever is.
  absl::Status ResolveReply(const std::string& sender_id, v1::Envelope* envelope,
                            std::optional<RequestKey>* answers);
  void ErasePending(const RequestKey& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The request `key` answered by a reply that was queued: no longer pending.
  void RetireAnswered(const RequestKey& key) ABSL_LOCKS_EXCLUDED(mu_);
  void OnDeadline(const std::string& sender_id, const std::string& message_id,
                  const std::vector<std::string>& recipients, bool expects_reply);
  void Finish(const std::shared_ptr<Tracker>& tracker, const std::string& agent_id,
              const Decision& decision, const absl::Status& status);

  const LimitsConfig limits_;
  const Components c_;
  std::atomic<bool> draining_{false};

  absl::Mutex mu_;
  absl::flat_hash_map<RequestKey, PendingRequest> pending_ ABSL_GUARDED_BY(mu_);
  // message id -> the requesters with a pending request of that id (a reply without a
  // recipient is matched through it).
  absl::flat_hash_map<std::string, std::vector<std::string>> requesters_by_id_ ABSL_GUARDED_BY(mu_);
};

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_ROUTER_H_
