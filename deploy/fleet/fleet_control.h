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

namespace latentbus::fleet {

// The run directory of a fleet under `root`: `fleet` is a fleet name, a FLEET.yaml (its
// `name:`), or "" for the only fleet there. NotFound when there is none; InvalidArgument
// when "" is ambiguous (the message lists the names).
absl::StatusOr<std::string> FindRunDir(const std::string& root, const std::string& fleet);

struct MemberStatus {
  MemberState member;
  bool running = false;
  std::optional<v1::AgentInfo> agent;  // the broker's view, for agents it lists
};

struct FleetStatus {
  FleetState state;
  bool supervisor_running = false;
  absl::StatusOr<bool> broker_serving = absl::UnavailableError("not asked");
  absl::Status list_status;  // how ListAgents went
  MemberStatus broker;
  std::vector<MemberStatus> agents;

  // The supervisor and every member run, the broker is SERVING and the broker lists
  // every agent as connected.
  bool Healthy() const;
};

// Reads the state and asks the processes and the broker (`token`: for ListAgents when
// the broker has tokens). NotFound without a state file.
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
// If it is gone or does not finish in time, stops the members itself (SIGTERM, then
// SIGKILL after the fleet's stop timeout). NotFound without a state file.
absl::StatusOr<DownResult> StopFleet(const std::string& run_dir);

}  // namespace latentbus::fleet

#endif  // LATENTBUS_DEPLOY_FLEET_FLEET_CONTROL_H_
