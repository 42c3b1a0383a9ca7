// `latentbus fleet up`: starts a fleet's nats-servers, brokers and agents as child
// processes, waits until each is healthy, streams their output with name prefixes, and
// stops them all in reverse order (agents first, then the brokers, which drain, then the
// nats-servers) on SIGINT/SIGTERM/SIGHUP.
//
// Startup: with a nats section, the nats-servers start first (nats-server 2.15.x, checked
// before any starts; configuration files <run dir>/natsI.conf written by
// nats/nats_server_config.h); they are healthy once every one's /healthz answers 200 and,
// for several, all name the same JetStream meta leader (nats/nats_health.h). Then every
// broker gets --port-file; it is healthy once the file names its port and grpc.health.v1
// answers SERVING there. Then every agent starts with --broker (every broker, see
// AgentBrokers) and --ready-file, and is healthy once its ready file exists (the agent
// writes it when a broker has registered it). Each group must be healthy within
// ready_timeout_seconds.
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
  // state.json, the brokers' port files, the agents' ready files, the nats-servers'
  // configuration files (and, by default, their store)
  std::string run_dir;
  std::FILE* out = stdout;
};

class FleetSupervisor {
 public:
  FleetSupervisor(FleetSpec spec, SupervisorOptions options);
  ~FleetSupervisor();

  // Runs the fleet until it is stopped or fails; returns a FleetExitCode.
  int Run();

 private:
  // Start order; stopped in reverse.
  enum class Role { kNats, kBroker, kAgent };

  struct Member {
    std::string name;
    Role role = Role::kAgent;
    std::unique_ptr<ChildProcess> process;
    std::unique_ptr<LinePrefixer> log;
    std::string ready_file;              // agents
    std::string port_file;               // brokers
    int monitor_port = 0;                // nats-servers
    std::string address;                 // brokers, once the port file names the port
    std::unique_ptr<BrokerProbe> probe;  // brokers, likewise
    bool stop_sent = false;
    bool killed = false;
  };

  bool Prepare();
  // Spawns `program` with `args` as a member; records it in the state. `state` is the
  // member's entry (name, addresses); its process is filled in here.
  bool Start(Role role, const std::string& program, const std::vector<std::string>& args,
             MemberState state);
  // Waits (pumping output and signals) until `ready` holds; false on a stop request, a
  // member exit or the ready timeout (failure_ then says which, with `not_ready()`'s text).
  template <typename Ready, typename NotReady>
  bool WaitUntil(Ready ready, NotReady not_ready, const std::string& what);
  bool StartNats();
  // Problems of nats-servers not ready yet ("nats1: no JetStream meta leader yet"), empty
  // when all are; `meta_leader` gets the leader they name.
  std::vector<std::string> NatsNotReady(std::string* meta_leader);
  bool StartBrokers();
  std::vector<std::string> BrokersNotReady();
  bool StartAgents();
  std::vector<std::string> AgentsNotReady() const;
  std::vector<Member*> MembersOf(Role role);
  // Polls output and signals for up to `wait`; reaps members that exited.
  void Pump(absl::Duration wait);
  void Reap();
  void Drain(Member& member);
  void StopMembers(Role role);
  int Stop();
  void Say(const std::string& line);
  void SaveState(const std::string& phase);

  FleetSpec spec_;
  SupervisorOptions options_;
  std::string state_path_;
  int signal_fd_ = -1;
  int stop_signals_ = 0;  // SIGINT/SIGTERM/SIGHUP received
  size_t name_width_ = 6;
  std::vector<Member> members_;  // in start order: nats-servers, brokers, agents
  std::string nats_urls_;        // every nats-server's client URL, comma-separated
  std::optional<std::string> failure_;
  FleetState state_;
  std::unique_ptr<LinePrefixer> own_log_;
};

}  // namespace latentbus::fleet

#endif  // LATENTBUS_DEPLOY_FLEET_FLEET_SUPERVISOR_H_
