// The cross-broker systems of `latentbus bench bus --cluster N`: each phase starts a
// fresh JetStream cluster of nats-servers (child processes on loopback, R = their count,
// file storage) with one sync policy, and measures on it either
//   jetstream_<policy>            JetStream alone (bench/jetstream_transport.h): publish ->
//                                 fetch -> ack, the engine's floor (a request's round trip
//                                 is two such hops);
//   latentbus_cluster<B>_<policy> B in-process brokers in cluster mode (`broker
//                                 --cluster`); with B >= 2 every sender is connected to
//                                 another broker than its receiver, so each message
//                                 crosses brokers through JetStream.
// <policy> is "always" (sync_interval: always; the brokers run `durability: always`) or
// "fast" (the servers' lazy flush; `durability: fast`).
//
// Thread safety: RunClusterSystem blocks its caller; one phase at a time.
#ifndef LATENTBUS_BENCH_BUS_CLUSTER_H_
#define LATENTBUS_BENCH_BUS_CLUSTER_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/bus_driver.h"
#include "bench/bus_transport.h"
#include "nlohmann/json.hpp"

namespace latentbus::bench {

struct ClusterSystem {
  std::string name;  // as in the JSON: "jetstream_always", "latentbus_cluster2_fast", ...
  int brokers = 0;   // 0: the JetStream floor
  bool sync_always = true;
};

struct ClusterBenchOptions {
  int brokers = 0;  // `--cluster N`; 0: no cross-broker systems
  int servers = 3;  // nats-servers in the JetStream cluster (and the replicas)
  std::vector<bool> sync_always = {true, false};  // the policies, in order
  std::string nats_server;                        // binary; empty: nats::DefaultNatsServer()
  std::string bridge_path;  // loaded into every broker; empty: none (text only)
  std::string token;
  uint32_t protocol = 2;
  uint64_t max_payload = 1u << 20;
};

// Per policy: the floor, one broker, and (when brokers > 1) `brokers` brokers.
std::vector<ClusterSystem> PlanClusterSystems(const ClusterBenchOptions& options);

// Connects agent i of `agents` to broker BrokerOf(i): senders (the first half, or the
// topic's publisher) round-robin from broker 0, each receiver to the broker after its
// sender's, so that with two or more brokers no pair shares one.
int BrokerOf(const Workload& workload, int agent, int brokers);

// Starts `system`'s JetStream cluster and brokers and runs `measure` with the transport
// to measure and the servers' CPU seconds so far; fills `label` and `extra` (server
// version, brokers, sync policy). Everything started is stopped before it returns.
using MeasureFn = std::function<absl::StatusOr<PhaseResult>(
    BusTransport& transport, const std::function<double()>& server_cpu)>;
absl::StatusOr<PhaseResult> RunClusterSystem(const ClusterSystem& system,
                                             const ClusterBenchOptions& options,
                                             const Workload& workload,
                                             const std::vector<BusAgent>& agents,
                                             const MeasureFn& measure, std::string* label,
                                             nlohmann::json* extra);

}  // namespace latentbus::bench

#endif  // LATENTBUS_BENCH_BUS_CLUSTER_H_
