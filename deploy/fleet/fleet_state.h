// The state file of a running fleet: what `latentbus fleet up` started (pids, the
// nats-servers' and brokers' addresses, ready files), so that `fleet status` and `fleet down`, run
// from another shell, can find and check or stop it. JSON, replaced atomically (write to a
// temporary file, then rename), at <run dir>/state.json.
//
// A pid alone could have been reused by an unrelated process by the time it is read:
// each process is recorded with its start time (/proc/PID/stat field 22), and
// IsRunning() checks both.
//
// Thread safety: plain data; the functions touch only the files they are given.
#ifndef LATENTBUS_DEPLOY_FLEET_FLEET_STATE_H_
#define LATENTBUS_DEPLOY_FLEET_FLEET_STATE_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace latentbus::fleet {

// A process as recorded: pid plus kernel start time, 0/0 when not started.
struct ProcessId {
  pid_t pid = 0;
  uint64_t start_time = 0;
};

// The start time of a live process, or nullopt when there is no such process.
std::optional<uint64_t> ProcessStartTime(pid_t pid);
// The ProcessId of a live pid (start time read now), or {pid, 0} if it has gone.
ProcessId Identify(pid_t pid);
// True when `id.pid` is alive (not a zombie) and is still the process recorded.
bool IsRunning(const ProcessId& id);

struct MemberState {
  std::string name;  // "nats0", "broker" / "broker0", or the agent id
  ProcessId process;
  std::string ready_file;  // agents; "" for the others
  // brokers: host:port tools dial ("" until known); nats-servers: nats://127.0.0.1:PORT.
  std::string address;
  // brokers: the metrics listen address ("" = off); nats-servers: 127.0.0.1:PORT of the
  // HTTP monitoring endpoint.
  std::string monitor;
};

struct FleetState {
  std::string name;
  std::string fleet_file;
  // "starting" (members still coming up), "running", "stopping", or "stopped".
  std::string phase;
  int64_t started_unix = 0;
  ProcessId supervisor;  // the `fleet up` process
  // Every broker's host:port, comma-separated (as a client's --broker takes them); "" until
  // known.
  std::string broker_address;
  double stop_timeout_seconds = 30;
  std::vector<MemberState> nats;  // in start order; empty without a nats section
  std::vector<MemberState> brokers;
  std::vector<MemberState> agents;
  std::optional<int> exit_code;  // set with phase "stopped"
};

// <root>/<name>; root = $LATENTBUS_FLEET_DIR, else $XDG_RUNTIME_DIR/latentbus-fleet, else
// /tmp/latentbus-fleet-<uid>.
std::string DefaultRunRoot();
std::string StatePath(const std::string& run_dir);

absl::Status WriteState(const FleetState& state, const std::string& path);
// NotFound when there is no state file; DataLoss for a file that does not parse. A file
// written before fleets had several brokers (one "broker") reads as one broker.
absl::StatusOr<FleetState> ReadState(const std::string& path);

}  // namespace latentbus::fleet

#endif  // LATENTBUS_DEPLOY_FLEET_FLEET_STATE_H_
