// `latentbus fleet up`: starts a fleet's broker and agents as child processes, waits
// until each is healthy, streams their output with name prefixes, and stops them all in
// order (agents first, then the broker, which drains) on SIGINT/SIGTERM/SIGHUP.
//
// Startup: the broker gets --port-file; it is healthy once the file names its port and
// grpc.health.v1 answers SERVING there. Then every agent starts with --broker and
// --ready-file, and is healthy once its ready file exists (the agent writes it when the
// broker has registered it). Every member must be healthy within ready_timeout_seconds.
// The state file (fleet_state.h) is written from the start, so `fleet down` can also stop
// a fleet that is still starting.
//
// Stopping: SIGTERM to each member, up to stop_timeout_seconds for it to exit, then
// SIGKILL (to its process group). A second stop signal while stopping kills at once.
// A member that exits on its own (or fails to start or become healthy in time) stops the
// whole fleet.
//
// Thread safety: Run() blocks SIGINT, SIGTERM, SIGHUP and SIGCHLD in the calling thread
// and reads them from a signalfd; call it from the main thread before any other thread
// starts, so that every later thread (gRPC's) inherits the mask.
#ifndef LATENTBUS_DEPLOY_FLEET_FLEET_SUPERVISOR_H_
#define LATENTBUS_DEPLOY_FLEET_FLEET_SUPERVISOR_H_

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "deploy/fleet/child_process.h"
#include "deploy/fleet/fleet_spec.h"
#include "deploy/fleet/fleet_state.h"
#include "deploy/fleet/line_prefixer.h"

namespace latentbus::fleet {

class BrokerProbe;

// Exit codes of `fleet up` (Run()).
enum FleetExitCode : int {
  kStoppedCleanly = 0,  // stopped on request; every member exited by itself (status 0)
  kFleetFailed = 1,     // a member failed to start or become healthy, or exited on its own
  kUsage = 2,           // bad FLEET.yaml (reported before Run)
  kStoppedByForce = 3,  // stopped on request, but a member needed SIGKILL or exited non-zero
};

struct SupervisorOptions {
  std::string latentbus;  // the binary members run (`latentbus broker`, `latentbus agent`)
  std::string run_dir;    // state.json, the broker's port file and the agents' ready files
  std::FILE* out = stdout;
};

class FleetSupervisor {
 public:
  FleetSupervisor(FleetSpec spec, SupervisorOptions options);
  ~FleetSupervisor();

  // Runs the fleet until it is stopped or fails; returns a FleetExitCode.
  int Run();

 private:
  struct Member {
    std::string name;
    std::unique_ptr<ChildProcess> process;
    std::unique_ptr<LinePrefixer> log;
    std::string ready_file;
    bool stop_sent = false;
    bool killed = false;
  };

  bool Prepare();
  bool Start(const std::string& name, const std::vector<std::string>& args,
             const std::string& ready_file);
  // Waits (pumping output and signals) until `ready` holds; false on a stop request, a
  // member exit or the ready timeout (failure_ then says which).
  template <typename Ready>
  bool WaitUntil(Ready ready, const std::string& what);
  bool BrokerReady();
  std::vector<std::string> AgentsNotReady() const;
  // Polls output and signals for up to `wait`; reaps members that exited.
  void Pump(absl::Duration wait);
  void Reap();
  void Drain(Member& member);
  void StopMembers(size_t first, size_t last);
  int Stop();
  void Say(const std::string& line);
  void SaveState(const std::string& phase);

  FleetSpec spec_;
  SupervisorOptions options_;
  std::string state_path_;
  std::string port_file_;
  int signal_fd_ = -1;
  int stop_signals_ = 0;  // SIGINT/SIGTERM/SIGHUP received
  size_t name_width_ = 6;
  std::vector<Member> members_;         // the broker first, then the agents in file order
  std::unique_ptr<BrokerProbe> probe_;  // once the broker's port is known
  std::optional<std::string> failure_;
  FleetState state_;
  std::unique_ptr<LinePrefixer> own_log_;
};

}  // namespace latentbus::fleet

#endif  // LATENTBUS_DEPLOY_FLEET_FLEET_SUPERVISOR_H_
