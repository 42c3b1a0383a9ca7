// `fleet status` and `fleet down`: look at, or stop, a fleet that a `fleet up` in
// another shell runs, found through its state file (fleet_state.h).
//
// Thread safety: the functions are independent; each call reads the state afresh.
#ifndef LATENTBUS_DEPLOY_FLEET_FLEET_CONTROL_H_
#define LATENTBUS_DEPLOY_FLEET_FLEET_CONTROL_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "deploy/fleet/fleet_state.h"
#include "latentbus/v1/broker.pb.h"
#include "nats/nats_health.h"

namespace latentbus::fleet {

// The run directory of a fleet under `root`: `fleet` is a fleet name, a FLEET.yaml (its
// `name:`), or "" for the only fleet there. NotFound when there is none; InvalidArgument
// when "" is ambiguous (the message lists the names).
absl::StatusOr<std::string> FindRunDir(const std::string& root, const std::string& fleet);

struct MemberStatus {
  MemberState member;
  bool running = false;
  // Brokers: grpc.health.v1 (true = SERVING) and how ListAgents went.
  absl::StatusOr<bool> serving = absl::UnavailableError("not asked");
  absl::Status list_status;
  // Agents: the broker's view, from the broker that lists it (connected first), and
  // that broker's name.
  std::optional<v1::AgentInfo> agent;
  std::string broker;
  // nats-servers: the monitoring endpoint's answer, and why the server is not ready ("" when
  // it is: healthy, JetStream on and, with several, naming the meta leader the others name).
  nats::NatsHealth nats;
  std::string nats_problem;
};

// JetStream as the fleet's nats-servers report it (empty without a nats section).
struct JetStreamStatus {
  std::string meta_leader;                // as the first server that names one names it
  std::vector<nats::NatsStream> streams;  // each as its leader reports it
};

struct FleetStatus {
  FleetState state;
  bool supervisor_running = false;
  std::vector<MemberStatus> nats;
  std::vector<MemberStatus> brokers;
  std::vector<MemberStatus> agents;
  JetStreamStatus jetstream;

  // The supervisor and every member run, every nats-server is ready, every broker is
  // SERVING and a broker lists every agent as connected.
  bool Healthy() const;
};

// Reads the state and asks the processes, the nats-servers' monitoring endpoints and the
// brokers (`token`: for ListAgents when the brokers have tokens). NotFound without a state
// file.
absl::StatusOr<FleetStatus> InspectFleet(const std::string& run_dir, const std::string& token,
                                         absl::Duration timeout);

struct DownResult {
  bool was_running = false;
  bool forced = false;              // a process needed SIGKILL (from `fleet up` or from here)
  bool left_running = false;        // something survived even SIGKILL
  std::optional<int> up_exit_code;  // what `fleet up` recorded when it stopped
  std::vector<std::string> notes;   // what happened, for the user
};

// SIGTERM to the `fleet up` process, which stops its members in order; waits for it.
// If it is gone or does not finish in time, stops the members itself, agents, brokers,
// then nats-servers (SIGTERM, then SIGKILL after the fleet's stop timeout). NotFound without a
// state file.
absl::StatusOr<DownResult> StopFleet(const std::string& run_dir);

}  // namespace latentbus::fleet

#endif  // LATENTBUS_DEPLOY_FLEET_FLEET_CONTROL_H_
