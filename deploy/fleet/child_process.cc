#include "deploy/fleet/child_process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace latentbus::fleet {
namespace {

// Between fork and exec: async-signal-safe calls only.
[[noreturn]] void ExecChild(const char* program, char* const argv[], int output_fd, int error_fd,
                            pid_t parent) {
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) _exit(127);  // the launcher died before prctl took effect
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s) {
    if (s != SIGKILL && s != SIGSTOP) sigaction(s, &dfl, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  const int null_fd = open("/dev/null", O_RDONLY);
  if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
  dup2(output_fd, STDOUT_FILENO);
  dup2(output_fd, STDERR_FILENO);
  execv(program, argv);
  const int error = errno;
  ssize_t ignored = write(error_fd, &error, sizeof(error));
  (void)ignored;
  _exit(127);
}

}  // namespace

std::string SignalName(int signal) {
  const char* abbrev = sigabbrev_np(signal);
  return abbrev != nullptr ? absl::StrCat("SIG", abbrev) : absl::StrCat("signal ", signal);
}

std::string ExitStatus::ToString() const {
  return signaled ? absl::StrCat("killed by ", SignalName(code))
                  : absl::StrCat("exited with status ", code);
}

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Spawn(
    const std::string& program, const std::vector<std::string>& args) {
  if (program.empty()) return absl::InvalidArgumentError("no program to start");
  std::vector<std::string> storage = {program};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);

  int output[2], exec_error[2];
  if (pipe2(output, O_CLOEXEC) != 0) return absl::InternalError(strerror(errno));
  if (pipe2(exec_error, O_CLOEXEC) != 0) {
    const int error = errno;
    close(output[0]);
    close(output[1]);
    return absl::InternalError(strerror(error));
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) ExecChild(program.c_str(), argv.data(), output[1], exec_error[1], parent);
  const int fork_error = errno;
  close(output[1]);
  close(exec_error[1]);
  if (pid < 0) {
    close(output[0]);
    close(exec_error[0]);
    return absl::InternalError(absl::StrCat("fork: ", strerror(fork_error)));
  }
  setpgid(pid, pid);  // also here, so no signal to the group can race the child's own call
  int error = 0;
  ssize_t n;
  do {
    n = read(exec_error[0], &error, sizeof(error));
  } while (n < 0 && errno == EINTR);
  close(exec_error[0]);
  if (n == static_cast<ssize_t>(sizeof(error))) {
    waitpid(pid, nullptr, 0);
    close(output[0]);
    return absl::FailedPreconditionError(
        absl::StrCat("cannot execute ", program, ": ", strerror(error)));
  }
  fcntl(output[0], F_SETFL, fcntl(output[0], F_GETFL) | O_NONBLOCK);
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid, output[0]));
}

ChildProcess::~ChildProcess() {
  if (!exit_status_) {
    KillGroup();
    waitpid(pid_, nullptr, 0);
  }
  CloseOutput();
}

void ChildProcess::CloseOutput() {
  if (output_fd_ >= 0) close(output_fd_);
  output_fd_ = -1;
}

bool ChildProcess::Signal(int signal) {
  if (exit_status_) return false;
  return kill(pid_, signal) == 0;
}

void ChildProcess::KillGroup() {
  if (exit_status_) return;
  kill(-pid_, SIGKILL);
  kill(pid_, SIGKILL);  // in case it left its group
}

std::optional<ExitStatus> ChildProcess::Poll() {
  if (exit_status_) return exit_status_;
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r != pid_) return std::nullopt;
  ExitStatus exit;
  exit.signaled = WIFSIGNALED(status);
  exit.code = exit.signaled ? WTERMSIG(status) : WEXITSTATUS(status);
  exit_status_ = exit;
  return exit_status_;
}

}  // namespace latentbus::fleet
