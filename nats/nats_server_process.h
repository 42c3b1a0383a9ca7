// One nats-server as a child process: plain, JetStream, or a node of a JetStream cluster
// (NatsCluster starts those), on loopback ports, with a generated configuration file
// (nats/nats_server_config.h) and its log in a temporary folder that the object owns.
//
// Fault tests drive it: Signal(SIGKILL / SIGSTOP / SIGCONT) and Restart() on the same
// ports, name and store folder. The child gets SIGKILL from the kernel if the thread that
// started it exits (PR_SET_PDEATHSIG), so a crashed or killed test leaves no server behind;
// start servers from a thread that outlives them (a test's or the CLI's main thread).
//
// Thread safety: one owner thread.
#ifndef LATENTBUS_NATS_NATS_SERVER_PROCESS_H_
#define LATENTBUS_NATS_NATS_SERVER_PROCESS_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nats/nats_server_binary.h"
#include "nats/nats_server_config.h"

namespace latentbus::nats {

class NatsServerProcess {
 public:
  // Starts nats-server as `options` say; returns once it has logged "Server is ready" (all
  // its listeners are up) and accepts client connections, and, for a standalone JetStream
  // server, /healthz answers 200 (a cluster node's JetStream needs its peers:
  // NatsCluster::WaitReady). Ports left 0 are picked free, and picked again if another
  // process takes one first.
  // Errors: NotFound (the binary, named); FailedPrecondition when JetStream is asked of a
  // nats-server other than 2.15.x (CheckJetStreamVersion); InvalidArgument for a negative
  // port or a cluster JetStream node without server_name; Unavailable, with the tail of
  // its log, when it exits or does not get ready within options.start_timeout.
  static absl::StatusOr<std::unique_ptr<NatsServerProcess>> Start(NatsServerOptions options);
  // `latentbus bench bus`'s baseline: a plain server on free ports whose max_payload is at
  // least `max_payload` bytes.
  static absl::StatusOr<std::unique_ptr<NatsServerProcess>> Start(const std::string& binary,
                                                                  uint64_t max_payload);
  // Stop(), then removes the temporary folder (with the store folder when it owns it).
  ~NatsServerProcess();
  NatsServerProcess(const NatsServerProcess&) = delete;
  NatsServerProcess& operator=(const NatsServerProcess&) = delete;

  // "nats://127.0.0.1:<port>".
  std::string url() const;
  int port() const { return options_.port; }
  int monitor_port() const { return options_.monitor_port; }
  // The route port; 0 for a standalone server.
  int cluster_port() const { return options_.cluster ? options_.cluster->port : 0; }
  // The options it runs with, every port resolved.
  const NatsServerOptions& options() const { return options_; }
  const std::string& server_name() const { return options_.server_name; }
  // The JetStream store folder (nats-server keeps its data in <store_dir>/jetstream);
  // empty without JetStream.
  const std::string& store_dir() const { return store_dir_; }
  // The folder holding nats.conf and nats.log, removed with the object.
  const std::string& work_dir() const { return work_dir_; }
  // The child's pid; -1 once it has been reaped (after Signal(SIGKILL), Stop, or a
  // Running() that found it exited).
  pid_t pid() const { return pid_; }
  // What `nats-server --version` printed, e.g. "nats-server: v2.15.1".
  const std::string& version() const { return version_; }

  // False once the child has exited (reaping it); a stopped (SIGSTOP) child is running.
  bool Running();

  // Sends `sig` to the server. SIGKILL returns once the child is dead and reaped; SIGSTOP
  // once it is stopped, SIGCONT once it runs again (DeadlineExceeded if that takes over
  // 2 s); other signals return once sent. FailedPrecondition when it is not running.
  absl::Status Signal(int sig);

  // Starts the server again with the same configuration: ports, name, store folder,
  // routes. A server still running (or stopped by SIGSTOP) is stopped first as Stop() does;
  // a killed or crashed one is reaped. Returns as Start does; its log goes on in the same
  // file after a "restart" line. Unavailable with the log's tail when it fails, e.g. when
  // another process took one of its ports meanwhile.
  absl::Status Restart();

  // Idempotent. SIGTERM (with SIGCONT, so a stopped server acts on it), up to 3 s, then
  // SIGKILL; reaps. Files stay until the object goes, so Restart() may follow.
  void Stop();

  // CPU seconds (user + system) the running server has used; 0 when it is not running.
  double CpuSeconds() const;

  // The last `max_bytes` of the server's log (all its runs).
  std::string LogTail(size_t max_bytes = 2000) const;

 private:
  NatsServerProcess() = default;
  // Picks the ports left 0 in options_, writes the config, Launch()es; retries with fresh
  // ports when another process took a picked one first.
  absl::Status StartOnFreePorts(const NatsServerOptions& requested);
  // Spawns the child and waits for it to get ready (see Start).
  absl::Status Launch();
  // Records how the reaped child ended (a waitpid status) and forgets its pid.
  void Reaped(int wait_status);
  // "nats-server n0 on 127.0.0.1:4222", for messages.
  std::string Describe() const;

  NatsServerOptions options_;
  std::string executable_;
  std::string version_;
  std::string work_dir_;
  std::string store_dir_;
  pid_t pid_ = -1;
  std::string exit_description_;  // how the last reaped child ended
};

// True when `start_error` (from Start or Restart) says a port was taken by another
// process: a start on freshly picked ports may succeed.
bool LostPortRace(const absl::Status& start_error);

}  // namespace latentbus::nats

#endif  // LATENTBUS_NATS_NATS_SERVER_PROCESS_H_
