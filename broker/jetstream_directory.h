// The cluster's agent directory: which agents are registered on which broker, with which
// model and topics, in a JetStream key-value bucket every broker of the cluster reads and
// writes (docs/SCALEOUT.md).
//
// Each broker publishes its own agents (the registry's listener: a registration, a topic
// change, a disconnect, a release) under the key "a.<hex of the agent id>" as JSON
// {broker, model (base64 ModelSpec), topics, connected}, and watches the bucket: another
// broker's agents become remote agents in its registry (AgentRegistry::SetRemote), so
// direct messages, topic publications and replies reach agents connected elsewhere
// through the shared JetStream queues.
//
// A second registration of an id on another broker wins: the broker that held the older
// one (a lower revision of the key) ends its stream with ABORTED. A broker marks its agent
// absent only with a compare-and-swap on its own last revision, so it never overwrites a
// newer registration elsewhere.
//
// Thread safety: safe for concurrent use; the watcher runs on its own thread and calls
// into the registry (never while holding its own lock).
#ifndef LATENTBUS_BROKER_JETSTREAM_DIRECTORY_H_
#define LATENTBUS_BROKER_JETSTREAM_DIRECTORY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "broker/agent_registry.h"
#include "broker/metrics.h"

namespace latentbus::broker {

class JetStreamDirectory {
 public:
  struct Options {
    std::string servers;  // comma-separated nats:// URLs
    std::string bucket = "LATENTBUS_AGENTS";
    int replicas = 1;
    // This broker's name in the directory (unique in the cluster; the default adds the
    // host name and process id).
    std::string broker_name;
  };

  // Connects, creates the bucket if missing, publishes the agents already in `registry`,
  // installs itself as the registry's listener and starts watching. `registry` (and
  // `metrics`, when not null) must outlive the directory. Counts in `metrics`:
  // latentbus_agent_failovers_total (agents that registered here while the directory last
  // had them on another broker: it died or drained, or they moved).
  static absl::StatusOr<std::unique_ptr<JetStreamDirectory>> Create(Options options,
                                                                    AgentRegistry* registry,
                                                                    Metrics* metrics = nullptr);
  ~JetStreamDirectory();

  // The broker is draining or shutting down: the connection closes once the servers have
  // been unreachable for 0.6 s (NatsLink::CloseWhenServersGone). With the servers gone (a
  // whole fleet stopping), each agent's unregistration would otherwise wait out a 5 s
  // JetStream timeout on a gRPC thread. Thread-safe, idempotent.
  void ShuttingDown();

  const std::string& broker_name() const;

  class Impl;

 private:
  explicit JetStreamDirectory(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// "<host>-<pid>-<4 random hex digits>": a broker name unique on a cluster of machines,
// and across restarts of one process id.
std::string DefaultBrokerName();

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_JETSTREAM_DIRECTORY_H_
