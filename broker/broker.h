// The broker's core: every component of one broker process, wired together, with no
// gRPC in sight (broker/service.h adapts it to the wire; broker/server.h serves it).
//
// Ownership: Broker owns the metrics, authenticator, rate limiter, agent registry,
// delivery layer, bridge registry, policy, translator, translation pool, timer and
// router. Components are created in dependency order and torn down in reverse;
// Shutdown stops the pool and timer threads first.
//
// Thread safety: all accessors and methods are safe for concurrent use.
#ifndef LATENTBUS_BROKER_BROKER_H_
#define LATENTBUS_BROKER_BROKER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "broker/agent_registry.h"
#include "broker/auth.h"
#include "broker/bridge_registry.h"
#include "broker/config.h"
#include "broker/delivery.h"
#include "broker/metrics.h"
#include "broker/policy.h"
#include "broker/rate_limiter.h"
#include "broker/router.h"
#include "broker/timer.h"
#include "broker/translation_pool.h"
#include "broker/translator.h"
#include "latentbus/v1/broker.pb.h"
#include "telemetry/tracer.h"

namespace latentbus::broker {

inline constexpr char kBrokerVersion[] = "0.1.0";

struct BrokerOptions {
  BrokerConfig config;
  // Loads bridge artifacts for LoadBridge; null => LoadBridge is UNIMPLEMENTED.
  BridgeLoader bridge_loader;
  // Null => BridgeTranslator.
  std::unique_ptr<Translator> translator;
  // Null => InMemoryDelivery with the configured limits.
  std::unique_ptr<DeliveryLayer> delivery;
  // Where the broker's counters and gauges go; null => its own. A delivery layer or
  // directory made before the broker reports into the same one when given it.
  std::shared_ptr<Metrics> metrics;
  // Null: tracing off. Else the broker records its spans of every sampled message
  // (broker/send_trace.h, broker/delivery_trace.h) and counts exported and dropped spans
  // in its metrics. The owner shuts it down (flush) after the broker.
  std::shared_ptr<telemetry::Tracer> tracer;
};

class Broker {
 public:
  explicit Broker(BrokerOptions options);
  ~Broker();

  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  const BrokerConfig& config() const { return config_; }
  Metrics& metrics() { return *metrics_; }
  const Authenticator& auth() const { return auth_; }
  RateLimiter& rate_limiter() { return rate_limiter_; }
  AgentRegistry& registry() { return registry_; }
  DeliveryLayer& delivery() { return *delivery_; }
  const Policy& policy() const { return policy_; }
  BridgeRegistry& bridges() { return bridges_; }
  Router& router() { return *router_; }

  // Registers `session` as the agent `reg` names, for `principal`: checks the id, the
  // model, the principal's rights to the id and the topics, the topic count and that the
  // broker is not draining (the refusal, as a BrokerError status, otherwise); then, as one
  // step against a racing registration of the same id, enters it in the registry with its
  // topics, calls `announce` with the redeliveries waiting for it (the caller writes its
  // Registered frame: it goes before any delivery) and attaches the session to the
  // delivery layer with `credits`. A session the registration replaced is ended with
  // ABORTED. Returns whether one was replaced.
  absl::StatusOr<bool> Register(const v1::Register& reg, const Principal& principal,
                                std::shared_ptr<AgentSession> session, uint32_t credits,
                                const std::function<void(uint32_t pending)>& announce);
  // The stream `session` of `agent_id` ended: the agent is absent (unless a newer session
  // replaced it) and the delivery layer takes back what the session held. Returns false
  // when a newer session had replaced it.
  bool Unregister(const std::string& agent_id, const AgentSession* session);

  v1::ListAgentsResponse ListAgents() const;
  v1::ListBridgesResponse ListBridges() const;
  v1::GetStatsResponse GetStats() const;

  // Refuses registrations from now on and sends GoAway to every stream. Sends are
  // refused too (DRAINING) unless the queues outlive the broker (cluster mode): there the
  // agents keep sending until their stream is shed (ShedSessions).
  void BeginDrain(absl::string_view detail);
  bool draining() const { return draining_.load(); }
  // Refuses registrations and sends from now on (shutting down).
  void StopAccepting() {
    draining_ = true;
    router_->SetDraining();
  }

  // Brokers sharing their queues (cluster mode): ends every agent's stream here, a few at
  // a time spread over `window`, so that the agents reconnect to the other brokers
  // gradually, not all at once. Each stream gets nothing more from the delivery layer
  // for its share of the window (what it holds may still be acked) and then ends with
  // UNAVAILABLE; what it had not acked goes to the agent's next session. Blocks for about
  // `window`; returns how many streams it ended (latentbus_sessions_shed_total).
  size_t ShedSessions(absl::Duration window);

  // Stops the translation pool and the timer (queued translations are cancelled).
  void Shutdown();

 private:
  // Releases absent recipients' state (DeliveryLayer::ReleaseAbsent) on the timer thread,
  // periodically, then returns freed memory to the system.
  void ScheduleRetentionSweep();

  const BrokerConfig config_;
  const absl::Time started_at_;
  std::shared_ptr<Metrics> metrics_;
  std::shared_ptr<telemetry::Tracer> tracer_;
  std::atomic<bool> draining_{false};
  Authenticator auth_;
  RateLimiter rate_limiter_;
  AgentRegistry registry_;
  std::unique_ptr<DeliveryLayer> delivery_;
  BridgeRegistry bridges_;
  Policy policy_;
  std::unique_ptr<Translator> translator_;
  std::unique_ptr<TranslationPool> pool_;
  std::unique_ptr<Timer> timer_;
  std::unique_ptr<Router> router_;
  absl::Mutex registration_mu_;
};

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_BROKER_H_
