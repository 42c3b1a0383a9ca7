#include "broker/broker.h"

#include <malloc.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "broker/errors.h"
#include "broker/in_memory_delivery.h"
#include "broker/validation.h"
#include "google/protobuf/util/time_util.h"
#include "spdlog/spdlog.h"

namespace latentbus::broker {
namespace {

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  google::protobuf::Timestamp ts;
  int64_t nanos = absl::ToUnixNanos(t);
  ts.set_seconds(nanos / 1000000000);
  ts.set_nanos(static_cast<int32_t>(nanos % 1000000000));
  return ts;
}

std::unique_ptr<DeliveryLayer> DefaultDelivery(const BrokerConfig& config, Metrics* metrics,
                                               telemetry::Tracer* tracer,
                                               std::unique_ptr<DeliveryLayer> given) {
  if (given) return given;
  InMemoryDelivery::Options options;
  options.max_queue_depth = config.limits.max_queue_depth;
  options.dedup_window = config.limits.dedup_window;
  options.max_queue_bytes = config.limits.max_queue_bytes;
  options.max_total_bytes = config.limits.max_total_queue_bytes;
  options.absent_retention = absl::Seconds(config.limits.absent_retention_seconds);
  return std::make_unique<InMemoryDelivery>(options, metrics, tracer);
}

}  // namespace

Broker::Broker(BrokerOptions options)
    : config_(std::move(options.config)),
      started_at_(absl::Now()),
      metrics_(options.metrics ? std::move(options.metrics) : std::make_shared<Metrics>()),
      tracer_(std::move(options.tracer)),
      auth_(config_.tokens),
      rate_limiter_(config_.limits.rate_per_second, config_.limits.rate_burst),
      delivery_(
          DefaultDelivery(config_, metrics_.get(), tracer_.get(), std::move(options.delivery))),
      bridges_(std::move(options.bridge_loader)),
      policy_(config_.policy, &bridges_),
      translator_(options.translator ? std::move(options.translator)
                                     : std::make_unique<BridgeTranslator>()) {
  TranslationPool::Options pool_options;
  pool_options.threads = config_.translation.threads;
  pool_options.max_batch = config_.translation.max_batch;
  pool_options.max_pending = config_.translation.max_pending;
  pool_options.max_pending_bytes = config_.translation.max_pending_bytes;
  pool_options.inline_max_tokens = config_.translation.inline_max_tokens;
  pool_ = std::make_unique<TranslationPool>(translator_.get(), pool_options, metrics_.get());
  timer_ = std::make_unique<Timer>();
  router_ = std::make_unique<Router>(
      config_.limits,
      Router::Components{&registry_, delivery_.get(), &policy_, pool_.get(), timer_.get(),
                         metrics_.get(), &rate_limiter_, tracer_.get()});
  if (tracer_) {
    telemetry::ExportObserver observer;
    observer.dropped = [metrics = metrics_](telemetry::DropReason reason, uint64_t n) {
      metrics->Increment("latentbus_trace_spans_dropped_total",
                         {{"reason", telemetry::DropReasonName(reason)}}, static_cast<double>(n));
    };
    observer.exported = [metrics = metrics_](uint64_t n) {
      metrics->Increment("latentbus_trace_spans_exported_total", {}, static_cast<double>(n));
    };
    tracer_->processor().SetObserver(std::move(observer));
  }
  delivery_->SetReplyDelivered(
      [router = router_.get()](const std::string& recipient, const v1::Envelope& reply) {
        router->ReplyDelivered(recipient, reply);
      });
  metrics_->AddCollector([this] {
    std::vector<Metrics::GaugeSample> out;
    out.push_back({"latentbus_connected_agents", {}, static_cast<double>(registry_.size())});
    out.push_back({"latentbus_bridges_loaded", {}, static_cast<double>(bridges_.size())});
    out.push_back({"latentbus_process_resident_bytes", {}, ResidentBytes()});
    for (const RecipientStats& s : delivery_->Stats()) {
      out.push_back(
          {"latentbus_queue_depth", {{"agent", s.agent_id}}, static_cast<double>(s.queued)});
      out.push_back({"latentbus_unacked", {{"agent", s.agent_id}}, static_cast<double>(s.unacked)});
      out.push_back(
          {"latentbus_queue_bytes", {{"agent", s.agent_id}}, static_cast<double>(s.bytes)});
    }
    return out;
  });
  ScheduleRetentionSweep();
}

void Broker::ScheduleRetentionSweep() {
  // Often enough that an absent agent's state lives at most a quarter longer than the
  // retention; at least every 30 s.
  const absl::Duration period =
      std::clamp(absl::Seconds(config_.limits.absent_retention_seconds) / 4,
                 absl::Milliseconds(100), absl::Seconds(30));
  timer_->Schedule(absl::Now() + period, [this] {
    const absl::Time now = absl::Now();
    // An absent agent stops being a recipient when its queue goes (same retention).
    registry_.ReleaseAbsent(now - absl::Seconds(config_.limits.absent_retention_seconds));
    if (const size_t dropped = delivery_->ReleaseAbsent(now); dropped > 0) {
      spdlog::warn("released the queues of agents absent for over {} s: {} message(s) dropped",
                   config_.limits.absent_retention_seconds, dropped);
    }
    // Freed queues go back to the system, not only to the allocator's free lists.
    malloc_trim(0);
    ScheduleRetentionSweep();
  });
}

Broker::~Broker() { Shutdown(); }

void Broker::Shutdown() {
  delivery_->SetReplyDelivered(nullptr);  // the router goes before the delivery layer
  pool_->Shutdown();
  timer_->Shutdown();
  if (tracer_) {
    // The spans of the last messages go out now; the observer points into this broker.
    tracer_->ForceFlush(absl::Seconds(5));
    tracer_->processor().SetObserver({});
  }
}

v1::ListAgentsResponse Broker::ListAgents() const {
  v1::ListAgentsResponse response;
  std::vector<RecipientStats> stats = delivery_->Stats();
  absl::flat_hash_map<std::string, const RecipientStats*> by_id;
  for (const RecipientStats& s : stats) by_id[s.agent_id] = &s;
  for (const AgentRecord& r : registry_.List()) {
    v1::AgentInfo* info = response.add_agents();
    info->set_agent_id(r.agent_id);
    *info->mutable_model() = *r.model;
    info->set_connected(r.session != nullptr);
    if (r.session != nullptr) *info->mutable_connected_since() = ToTimestamp(r.connected_since);
    for (const std::string& t : r.topics) info->add_topics(t);
    auto it = by_id.find(r.agent_id);
    if (it != by_id.end()) {
      info->set_queue_depth(it->second->queued);
      info->set_unacked(it->second->unacked);
    }
  }
  return response;
}

v1::ListBridgesResponse Broker::ListBridges() const {
  v1::ListBridgesResponse response;
  for (const BridgeInfo& info : bridges_.List()) {
    *response.add_bridges() = BridgeInfoToProto(info);
  }
  return response;
}

v1::GetStatsResponse Broker::GetStats() const {
  v1::GetStatsResponse response;
  *response.mutable_started_at() = ToTimestamp(started_at_);
  response.set_connected_agents(static_cast<uint32_t>(registry_.size()));
  for (const auto& [name, value] : metrics_->Counters())
    (*response.mutable_counters())[name] = value;
  for (const auto& [name, value] : metrics_->Gauges()) (*response.mutable_gauges())[name] = value;
  return response;
}

void Broker::BeginDrain(absl::string_view detail) {
  draining_ = true;
  if (!config_.cluster.enabled()) router_->SetDraining();
  std::vector<AgentRecord> agents = registry_.List();
  spdlog::info("draining agents={} detail=\"{}\"", agents.size(), std::string(detail));
  for (const AgentRecord& a : agents) {
    if (a.session == nullptr) continue;  // absent
    v1::BrokerFrame frame;
    frame.mutable_go_away()->set_detail(std::string(detail));
    a.session->Push(std::move(frame));
  }
}

absl::StatusOr<bool> Broker::Register(const v1::Register& reg, const Principal& principal,
                                      std::shared_ptr<AgentSession> session, uint32_t credits,
                                      const std::function<void(uint32_t pending)>& announce) {
  const LimitsConfig& limits = config_.limits;
  // Validated before it is kept or logged: ids reach log lines and metrics labels.
  if (absl::Status s = ValidateName("agent_id", reg.agent_id()); !s.ok()) return s;
  // No model: a text-only client (people's tools, SDK scripts); it receives text only
  // and may not send latents.
  if (reg.has_model()) {
    if (absl::Status s = ValidateModelSpec(reg.model()); !s.ok()) return s;
  }
  if (!principal.MayActAs(reg.agent_id())) {
    return BrokerError(
        v1::PERMISSION_DENIED,
        absl::StrCat("token '", principal.name, "' may not register agent '", reg.agent_id(), "'"));
  }
  if (draining()) return BrokerError(v1::DRAINING, "the broker is draining");
  if (static_cast<uint32_t>(reg.topics_size()) > limits.max_topics_per_agent) {
    return BrokerError(
        v1::TOO_MANY_TOPICS,
        absl::StrCat(reg.topics_size(), " topics; the limit is ", limits.max_topics_per_agent));
  }
  for (const std::string& topic : reg.topics()) {
    if (absl::Status s = ValidateName("topic", topic); !s.ok()) return s;
    if (!principal.MaySubscribe(topic)) {
      return BrokerError(
          v1::PERMISSION_DENIED,
          absl::StrCat("token '", principal.name, "' may not subscribe to '", topic, "'"));
    }
  }
  const std::string& agent_id = reg.agent_id();
  auto model = std::make_shared<const v1::ModelSpec>(reg.model());
  std::shared_ptr<AgentSession> replaced;
  {
    // One step against a racing registration of the same id: registry and delivery
    // layer agree on which session is the agent's.
    absl::MutexLock lock(&registration_mu_);
    replaced = registry_.Register(agent_id, model, session, absl::Now());
    for (const std::string& topic : reg.topics()) {
      // Cannot fail: registered just now by this session, count checked above.
      (void)registry_.Subscribe(agent_id, session.get(), topic, limits.max_topics_per_agent);
    }
    announce(delivery_->Pending(agent_id));
    delivery_->Attach(agent_id, std::move(session), credits);
  }
  if (replaced) {
    metrics_->Increment("latentbus_replaced_streams_total");
    replaced->End(absl::AbortedError("replaced by a newer stream for the same agent id"));
  }
  return replaced != nullptr;
}

bool Broker::Unregister(const std::string& agent_id, const AgentSession* session) {
  absl::MutexLock lock(&registration_mu_);
  const bool removed = registry_.Unregister(agent_id, session, absl::Now());
  delivery_->Detach(agent_id, session);
  return removed;
}

size_t Broker::ShedSessions(absl::Duration window) {
  std::vector<AgentRecord> agents;
  for (AgentRecord& a : registry_.List()) {
    if (a.session != nullptr) agents.push_back(std::move(a));
  }
  if (agents.empty()) return 0;
  // Up to 20 steps; each quiesces its agents, leaves them the step to ack what they hold,
  // then ends their streams.
  const size_t steps = std::min<size_t>(agents.size(), 20);
  const size_t per_step = (agents.size() + steps - 1) / steps;
  const absl::Duration step = window / static_cast<double>(steps);
  spdlog::info("shedding agents={} window_s={}", agents.size(), absl::ToDoubleSeconds(window));
  size_t shed = 0;
  for (size_t first = 0; first < agents.size(); first += per_step) {
    const size_t last = std::min(agents.size(), first + per_step);
    for (size_t i = first; i < last; ++i) {
      delivery_->Quiesce(agents[i].agent_id, agents[i].session.get());
    }
    absl::SleepFor(step);
    for (size_t i = first; i < last; ++i) {
      agents[i].session->End(absl::UnavailableError(
          "the broker is draining: connect to another broker of the cluster"));
      ++shed;
    }
  }
  metrics_->Increment("latentbus_sessions_shed_total", {}, static_cast<double>(shed));
  return shed;
}

}  // namespace latentbus::broker
