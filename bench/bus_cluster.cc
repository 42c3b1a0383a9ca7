#include "bench/bus_cluster.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/bench_broker_options.h"
#include "bench/broker_transport.h"
#include "bench/jetstream_transport.h"
#include "broker/server.h"
#include "nats/nats_cluster.h"
#include "spdlog/spdlog.h"

namespace latentbus::bench {
namespace {

const char* Policy(bool sync_always) { return sync_always ? "always" : "fast"; }

// Waits until every broker routes to every agent (its own, or one the shared directory
// names on another broker): a send before that would find no route.
absl::Status AwaitDirectory(const std::vector<std::unique_ptr<broker::BrokerServer>>& brokers,
                            const std::vector<BusAgent>& agents) {
  const absl::Time give_up = absl::Now() + absl::Seconds(15);
  for (const auto& b : brokers) {
    for (const BusAgent& a : agents) {
      for (;;) {
        const broker::AgentRegistry& registry = b->broker().registry();
        const std::optional<broker::RemoteAgent> remote = registry.FindRemote(a.id);
        if (registry.Find(a.id).has_value() || (remote.has_value() && remote->connected)) break;
        if (absl::Now() > give_up) {
          return absl::DeadlineExceededError(
              absl::StrCat("broker on port ", b->port(), " never learnt of agent ", a.id));
        }
        absl::SleepFor(absl::Milliseconds(5));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<ClusterSystem> PlanClusterSystems(const ClusterBenchOptions& options) {
  std::vector<ClusterSystem> out;
  for (bool sync : options.sync_always) {
    out.push_back({absl::StrCat("jetstream_", Policy(sync)), 0, sync});
    out.push_back({absl::StrCat("latentbus_cluster1_", Policy(sync)), 1, sync});
    if (options.brokers > 1) {
      out.push_back({absl::StrCat("latentbus_cluster", options.brokers, "_", Policy(sync)),
                     options.brokers, sync});
    }
  }
  return out;
}

int BrokerOf(const Workload& workload, int agent, int brokers) {
  if (brokers <= 1) return 0;
  if (workload.mode == BusMode::kTopic) return agent % brokers;
  const int pairs = workload.agents / 2;
  return agent < pairs ? agent % brokers : (agent - pairs + 1) % brokers;
}

absl::StatusOr<PhaseResult> RunClusterSystem(const ClusterSystem& system,
                                             const ClusterBenchOptions& options,
                                             const Workload& workload,
                                             const std::vector<BusAgent>& agents,
                                             const MeasureFn& measure, std::string* label,
                                             nlohmann::json* extra) {
  nats::NatsServerOptions node;
  if (!options.nats_server.empty()) node.binary = options.nats_server;
  node.sync_always = system.sync_always;
  node.max_payload = options.max_payload;
  absl::StatusOr<std::unique_ptr<nats::NatsCluster>> cluster =
      nats::NatsCluster::Start(options.servers, node);
  if (!cluster.ok()) return cluster.status();
  if (absl::Status s = (*cluster)->WaitReady(absl::Seconds(30)); !s.ok()) return s;
  nats::NatsCluster* c = cluster->get();
  const std::function<double()> server_cpu = [c] {
    double sum = 0;
    for (int i = 0; i < c->size(); ++i) sum += c->node(i).CpuSeconds();
    return sum;
  };
  (*extra)["server"] = c->node(0).version();
  (*extra)["nats_servers"] = options.servers;
  (*extra)["sync_interval"] = system.sync_always ? "always" : "default (lazy flush)";

  if (system.brokers == 0) {
    *label = absl::StrCat("JetStream R", options.servers, " (", Policy(system.sync_always), ")");
    JetStreamTransport transport(c->urls(), options.servers);
    return measure(transport, server_cpu);
  }

  // The brokers' start-up warnings (durability fast) are the bench's own choice: quiet, so
  // that they stay out of --json output on stdout.
  struct RestoreLevel {
    spdlog::level::level_enum level = spdlog::get_level();
    ~RestoreLevel() { spdlog::set_level(level); }
  } restore;
  spdlog::set_level(spdlog::level::err);
  std::vector<std::unique_ptr<broker::BrokerServer>> brokers;
  for (int i = 0; i < system.brokers; ++i) {
    broker::BrokerOptions bo = BenchBrokerOptions();
    broker::BrokerConfig& config = bo.config;
    config.cluster.servers = c->urls();
    config.cluster.replicas = options.servers;
    config.cluster.durability = Policy(system.sync_always);
    config.cluster.broker_name = absl::StrCat("bench", i);
    absl::StatusOr<std::unique_ptr<broker::BrokerServer>> b =
        broker::BrokerServer::Start(std::move(bo));
    if (!b.ok()) return b.status();
    if (!options.bridge_path.empty()) {
      v1::LoadBridgeRequest request;
      request.set_path(options.bridge_path);
      absl::StatusOr<broker::BridgeInfo> info = (*b)->broker().bridges().Load(request);
      if (!info.ok()) return info.status();
    }
    brokers.push_back(*std::move(b));
  }
  BrokerTransport::Options to;
  to.token = options.token;
  to.protocol = options.protocol;
  for (size_t i = 0; i < agents.size(); ++i) {
    const int b = BrokerOf(workload, static_cast<int>(i), system.brokers);
    to.agent_addresses.push_back(absl::StrCat("127.0.0.1:", brokers[b]->port()));
  }
  to.after_connect = [&brokers, &agents] { return AwaitDirectory(brokers, agents); };
  *label = absl::StrCat("latentbus, ", system.brokers, system.brokers == 1 ? " broker" : " brokers",
                        " (", Policy(system.sync_always), ")");
  (*extra)["brokers"] = system.brokers;
  absl::StatusOr<PhaseResult> r;
  {
    BrokerTransport transport(to);
    r = measure(transport, server_cpu);
  }
  for (auto& b : brokers) b->Shutdown();
  brokers.clear();
  return r;
}

}  // namespace latentbus::bench
