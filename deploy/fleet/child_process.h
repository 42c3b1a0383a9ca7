// A child process of the fleet launcher: started with fork + exec, its stdout and
// stderr merged into one non-blocking pipe the launcher reads, in a process group of
// its own (a Ctrl-C on the terminal reaches only the launcher, which then stops the
// members in order), and sent SIGTERM by the kernel if the launcher dies
// (PR_SET_PDEATHSIG), so a killed launcher leaves no orphans behind.
//
// The child starts with every signal unblocked and default dispositions, whatever the
// launcher blocks or ignores.
//
// Thread safety: not thread-safe; one owner. Spawn may be called while other threads
// run (only async-signal-safe calls happen between fork and exec).
#ifndef LATENTBUS_DEPLOY_FLEET_CHILD_PROCESS_H_
#define LATENTBUS_DEPLOY_FLEET_CHILD_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace latentbus::fleet {

// "SIGTERM" for SIGTERM, "signal N" for a number without a name.
std::string SignalName(int signal);

// How a process ended, as waitpid reported it.
struct ExitStatus {
  bool signaled = false;
  int code = 0;  // exit code, or the signal number when `signaled`
  bool clean() const { return !signaled && code == 0; }
  std::string ToString() const;  // "exited with status 3", "killed by SIGKILL"
};

class ChildProcess {
 public:
  // Starts `program` with `args` (argv[1..]). InvalidArgument for an empty program;
  // FailedPrecondition with errno's text when the program cannot be executed.
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Spawn(const std::string& program,
                                                             const std::vector<std::string>& args);
  // Kills (SIGKILL) and reaps a child still running; closes the pipe.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Read end of the merged stdout/stderr pipe (non-blocking), -1 once closed.
  int output_fd() const { return output_fd_; }
  void CloseOutput();

  // Sends `signal` to the child unless it has been reaped. Returns false when it has.
  bool Signal(int signal);
  // SIGKILL to the child's whole process group (anything it started goes too).
  void KillGroup();
  // Reaps the child if it has ended (never blocks); its status, or nullopt while it runs.
  std::optional<ExitStatus> Poll();
  // The status once reaped.
  const std::optional<ExitStatus>& exit_status() const { return exit_status_; }

 private:
  ChildProcess(pid_t pid, int output_fd) : pid_(pid), output_fd_(output_fd) {}

  pid_t pid_;
  int output_fd_;
  std::optional<ExitStatus> exit_status_;
};

}  // namespace latentbus::fleet

#endif  // LATENTBUS_DEPLOY_FLEET_CHILD_PROCESS_H_
