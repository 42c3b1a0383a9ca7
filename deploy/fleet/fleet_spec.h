// A fleet on one machine: a broker (or several, sharing their queues through a NATS
// JetStream cluster the fleet also runs) and the agents that connect to it, as `latentbus
// fleet up FLEET.yaml` starts them (the topology of deploy/k8s/overlays/dev).
//
// FLEET.yaml layout (unknown keys are an error, so typos do not pass silently):
//
//   name: demo                      # required; [a-z0-9-], names the run directory
//   model_dir: ~/models             # where relative agent models live; default
//                                   # $LATENTBUS_MODEL_DIR or ~/.cache/latentbus/models
//   ready_timeout_seconds: 300      # how long members may take to become ready
//   stop_timeout_seconds: 30        # SIGTERM -> this long -> SIGKILL, per member
//   nats:                           # optional: the brokers keep their queues in JetStream
//     servers: 3                    # 1-5 nats-servers (1: standalone); members nats0, nats1, ..
//     port: 0                       # client port of nats0, nats<i> gets port + i; 0 = free ones
//     cluster_port: 0               # route ports, the same way (servers > 1)
//     monitor_port: 0               # HTTP monitoring (/healthz, /jsz), the same way
//     store_dir: ""                 # node i stores in <store_dir>/nats<i>; "" = <run dir>/nats
//     sync_always: true             # sync_interval: always (a message acked is on disk)
//     max_payload: 8388608          # bytes, >= the brokers' limits.max_message_bytes + 64 KiB
//     binary: ""                    # nats-server 2.15.x; "" = $LATENTBUS_NATS_SERVER, else the
//                                   # one scripts/install-nats-server.sh installs, else PATH
//   broker:
//     replicas: 1                   # brokers; more than one needs `nats` (members broker0,
//                                   # broker1, ..; a lone broker is `broker`)
//     listen: 127.0.0.1:0           # broker i listens on this port + i; port 0 picks a free
//                                   # one (the state file records it)
//     metrics_listen: ""            # Prometheus /metrics, port + i likewise; "" = off
//     config: broker.yaml           # optional broker YAML (broker/config.h)
//     bridges: bridges/             # optional folder of *.bridge artifacts
//     drain_timeout_seconds: 5      # optional; the broker's own default otherwise
//     log_level: info               # optional
//     args: ["--max-queue-depth", "64"]  # further `latentbus broker` flags, verbatim
//   agents:                         # optional; started once the brokers are healthy
//     - id: smollm2                 # required, unique; [A-Za-z0-9._-]
//       model: SmolLM2-135M-Instruct.Q4_1.gguf   # required; relative to model_dir
//       layer: 20                   # the optional keys below map to `latentbus agent`
//       encoding: int4/g32          # flags of the same name
//       role: "You summarise."
//       topics: [tasks]
//       threads: 1
//       max_new_tokens: 64
//       token_file: agent.token     # relative to the fleet file
//       tls_ca: ca.pem
//       args: []                    # further `latentbus agent` flags, verbatim
//
// Relative paths other than models are resolved against the fleet file's folder; `~/`
// expands to $HOME. The fleet's broker speaks plaintext on loopback: the launcher checks
// its health over plaintext gRPC. Fixed ports of all members must not overlap.
//
// With `nats`, every broker gets `--cluster` with every server's URL, `--cluster-replicas`
// = servers and `--broker-name` = its member name; every agent gets `--broker` with every
// broker's address, starting at a different broker per agent (agent i at broker
// i % replicas), so the agents spread and fail over to the others.
//
// Thread safety: plain data; the functions are pure apart from reading files.
#ifndef LATENTBUS_DEPLOY_FLEET_FLEET_SPEC_H_
#define LATENTBUS_DEPLOY_FLEET_FLEET_SPEC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nats/nats_server_config.h"

namespace latentbus::fleet {

struct NatsSpec {
  int servers = 3;
  int port = 0;  // first client port; 0 = free ones
  int cluster_port = 0;
  int monitor_port = 0;
  std::string store_dir;  // absolute path, or "" for <run dir>/nats
  bool sync_always = true;
  uint64_t max_payload = 8u << 20;
  std::string binary;  // absolute path, a name looked up in PATH, or "" for the default
};

struct BrokerSpec {
  int replicas = 1;
  std::string listen = "127.0.0.1:0";
  std::string metrics_listen;
  std::string config;   // absolute path or ""
  std::string bridges;  // absolute path or ""
  std::optional<double> drain_timeout_seconds;
  std::string log_level;
  std::vector<std::string> args;
};

struct AgentSpec {
  std::string id;
  std::string model;  // absolute path
  std::optional<int> layer;
  std::string encoding;
  std::string role;
  std::vector<std::string> topics;
  std::optional<int> threads;
  std::optional<int> max_new_tokens;
  std::string token_file;  // absolute path or ""
  std::string tls_ca;      // absolute path or ""
  std::vector<std::string> args;
};

struct FleetSpec {
  std::string name;
  std::string source;  // the fleet file (absolute), "" when parsed from text
  double ready_timeout_seconds = 300;
  double stop_timeout_seconds = 30;
  std::optional<NatsSpec> nats;
  BrokerSpec broker;
  std::vector<AgentSpec> agents;
};

// Parses FLEET.yaml text. `base_dir` resolves relative paths; `model_dir_default` is used
// when the file sets no model_dir. InvalidArgument naming the offending key
// ("agents[1].modle: unknown key") for malformed YAML, unknown keys, bad values and
// duplicate ids, overlapping ports and brokers without nats; NotFound for a model,
// config, bridges, token, CA or nats binary path that does not exist (a bare binary name is
// looked up when the fleet starts).
absl::StatusOr<FleetSpec> ParseFleetYaml(absl::string_view yaml, const std::string& base_dir,
                                         const std::string& model_dir_default);

// Reads and parses a fleet file (model_dir default from the environment, see above).
absl::StatusOr<FleetSpec> LoadFleetFile(const std::string& path);

// The model folder used when a fleet file sets none.
std::string DefaultModelDir();

// Member names: "nats0", "nats1", ..; "broker" for a lone broker, else "broker0", ...
std::string NatsServerName(int index);
std::string BrokerName(const BrokerSpec& spec, int index);

// `address` (host:port) with its port moved up by `offset`; port 0 and "" stay as they are.
std::string ShiftPort(const std::string& address, int offset);

// How many ports NatsNodes needs from `picked`: those of the ports left 0, per server.
int NatsPortsToPick(const NatsSpec& spec);

// Where the nats-servers keep their streams: nats.store_dir, else <run_dir>/nats.
std::string NatsStoreRoot(const NatsSpec& spec, const std::string& run_dir);

// The nats-server options of every server, in order: named NatsServerName(i), JetStream in
// <store_root>/<name>, a cluster named `cluster_name` routed to every server when there
// are several. Ports left 0 in `spec` are taken from `picked` (NatsPortsToPick of them,
// distinct) in order: each server's client, route and monitoring port.
std::vector<nats::NatsServerOptions> NatsNodes(const NatsSpec& spec,
                                               const std::string& cluster_name,
                                               const std::string& store_root,
                                               const std::vector<int>& picked);

// "nats://127.0.0.1:P0,nats://127.0.0.1:P1,..": every node's client URL.
std::string NatsUrls(const std::vector<nats::NatsServerOptions>& nodes);

// The `latentbus broker` arguments (after the binary) for broker `index` of `spec`
// (0 <= index < broker.replicas), writing its bound port to `port_file`. With a nats
// section, `nats_urls` (NatsUrls) are its --cluster servers.
std::vector<std::string> BrokerArgs(const FleetSpec& spec, int index, const std::string& port_file,
                                    const std::string& nats_urls);

// The `latentbus agent` arguments for `spec`, connecting to `broker_address` (one
// host:port, or several comma-separated, tried in order) and writing `ready_file` once
// registered.
std::vector<std::string> AgentArgs(const AgentSpec& spec, const std::string& broker_address,
                                   const std::string& ready_file);

// The --broker list of agent `agent_index`: every address, starting at
// addresses[agent_index % size], comma-separated.
std::string AgentBrokers(const std::vector<std::string>& addresses, size_t agent_index);

// "127.0.0.1:PORT" for a broker listening on `listen` (host:port; a wildcard host
// 0.0.0.0 / [::] / "" becomes loopback) and bound to `port`.
std::string DialAddress(const std::string& listen, int port);

}  // namespace latentbus::fleet

#endif  // LATENTBUS_DEPLOY_FLEET_FLEET_SPEC_H_
