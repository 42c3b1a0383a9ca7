// A fleet on one machine: a broker and the agents that connect to it, as `latentbus
// fleet up FLEET.yaml` starts them (the topology of deploy/k8s/overlays/dev).
//
// FLEET.yaml layout (unknown keys are an error, so typos do not pass silently):
//
//   name: demo                      # required; [a-z0-9-], names the run directory
//   model_dir: ~/models             # where relative agent models live; default
//                                   # $LATENTBUS_MODEL_DIR or ~/.cache/latentbus/models
//   ready_timeout_seconds: 300      # how long members may take to become ready
//   stop_timeout_seconds: 30        # SIGTERM -> this long -> SIGKILL, per member
//   broker:
//     listen: 127.0.0.1:0           # port 0 picks a free one (the state file records it)
//     metrics_listen: ""            # Prometheus /metrics; "" = off
//     config: broker.yaml           # optional broker YAML (broker/config.h)
//     bridges: bridges/             # optional folder of *.bridge artifacts
//     drain_timeout_seconds: 5      # optional; the broker's own default otherwise
//     log_level: info               # optional
//     args: ["--max-queue-depth", "64"]  # further `latentbus broker` flags, verbatim
//   agents:                         # optional; started once the broker is healthy
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
// its health over plaintext gRPC.
//
// Thread safety: plain data; the functions are pure apart from reading files.
#ifndef LATENTBUS_DEPLOY_FLEET_FLEET_SPEC_H_
#define LATENTBUS_DEPLOY_FLEET_FLEET_SPEC_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace latentbus::fleet {

struct BrokerSpec {
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
  BrokerSpec broker;
  std::vector<AgentSpec> agents;
};

// Parses FLEET.yaml text. `base_dir` resolves relative paths; `model_dir_default` is used
// when the file sets no model_dir. InvalidArgument naming the offending key
// ("agents[1].modle: unknown key") for malformed YAML, unknown keys, bad values and
// duplicate ids; NotFound for a model, config, bridges, token or CA path that does not
// exist.
absl::StatusOr<FleetSpec> ParseFleetYaml(absl::string_view yaml, const std::string& base_dir,
                                         const std::string& model_dir_default);

// Reads and parses a fleet file (model_dir default from the environment, see above).
absl::StatusOr<FleetSpec> LoadFleetFile(const std::string& path);

// The model folder used when a fleet file sets none.
std::string DefaultModelDir();

// The `latentbus broker` arguments (after the binary) for `spec`, writing its bound
// port to `port_file`.
std::vector<std::string> BrokerArgs(const BrokerSpec& spec, const std::string& port_file);

// The `latentbus agent` arguments for `spec`, connecting to `broker_address` and
// writing `ready_file` once registered.
std::vector<std::string> AgentArgs(const AgentSpec& spec, const std::string& broker_address,
                                   const std::string& ready_file);

// "127.0.0.1:PORT" for a broker listening on `listen` (host:port; a wildcard host
// 0.0.0.0 / [::] / "" becomes loopback) and bound to `port`.
std::string DialAddress(const std::string& listen, int port);

}  // namespace latentbus::fleet

#endif  // LATENTBUS_DEPLOY_FLEET_FLEET_SPEC_H_
