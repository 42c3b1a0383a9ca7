#include "nats/nats_server_process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "nats/loopback_ports.h"
#include "nats/nats_health.h"

namespace latentbus::nats {
namespace {

constexpr char kConfigFile[] = "nats.conf";
constexpr char kLogFile[] = "nats.log";
constexpr char kReadyLine[] = "Server is ready";  // logged once every listener is up
constexpr int kStartAttempts = 3;
constexpr absl::Duration kStopGrace = absl::Seconds(3);
constexpr absl::Duration kSignalSettle = absl::Seconds(2);

// Starts args[0] with stdin from /dev/null and stdout and stderr appended to `log_path`,
// in the caller's process group, with SIGKILL as its parent-death signal.
absl::StatusOr<pid_t> SpawnLogged(std::vector<std::string> args, const std::string& log_path) {
  const int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return absl::UnavailableError(absl::StrCat("cannot open ", log_path, ": ", strerror(errno)));
  }
  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    // Async-signal-safe calls only until exec: other threads may hold locks.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the parent died before prctl took effect
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int s : {SIGTERM, SIGINT, SIGHUP}) signal(s, SIG_DFL);
    if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    execv(argv[0], argv.data());
    static const char kFailed[] = "latentbus: cannot execute nats-server\n";
    ssize_t ignored = write(STDERR_FILENO, kFailed, sizeof(kFailed) - 1);
    (void)ignored;
    _exit(127);
  }
  const int fork_error = errno;
  close(log_fd);
  if (null_fd >= 0) close(null_fd);
  if (pid < 0) return absl::UnavailableError(absl::StrCat("fork: ", strerror(fork_error)));
  return pid;
}

// The fields of /proc/<pid>/stat from the third (the state) on; empty when unreadable.
std::vector<std::string> ProcStatFields(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name (field 2) may hold spaces; the rest starts after its closing ')'.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 2 > stat.size()) return {};
  return absl::StrSplit(stat.substr(close + 2), ' ');
}

// True when /proc says `pid` is stopped by a signal.
bool IsStopped(pid_t pid) {
  const std::vector<std::string> f = ProcStatFields(pid);
  return !f.empty() && f[0] == "T";
}

// The size of the file at `path` in bytes; 0 when it cannot be read.
std::streamoff FileSize(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  return in ? static_cast<std::streamoff>(in.tellg()) : 0;
}

// The file at `path` from byte `offset` on; empty when it cannot be read.
std::string ReadFrom(const std::string& path, std::streamoff offset) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(offset);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Writes `text` to `path`, replacing it.
absl::Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

// Waits up to `grace` for `pid` to exit and reaps it; its waitpid status, or nullopt when
// it still runs.
std::optional<int> ReapWithin(pid_t pid, absl::Duration grace) {
  const absl::Time deadline = absl::Now() + grace;
  int status = 0;
  while (true) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return status;
    if (absl::Now() >= deadline) return std::nullopt;
    absl::SleepFor(absl::Milliseconds(10));
  }
}

}  // namespace

bool LostPortRace(const absl::Status& start_error) {
  return absl::StrContains(start_error.message(), "address already in use");
}

absl::StatusOr<std::unique_ptr<NatsServerProcess>> NatsServerProcess::Start(
    const std::string& binary, uint64_t max_payload) {
  NatsServerOptions options;
  options.binary = binary;
  options.max_payload = max_payload;
  return Start(std::move(options));
}

absl::StatusOr<std::unique_ptr<NatsServerProcess>> NatsServerProcess::Start(
    NatsServerOptions options) {
  if (options.port < 0 || options.monitor_port < 0 ||
      (options.cluster && options.cluster->port < 0)) {
    return absl::InvalidArgumentError("nats-server ports must be 0 (a free one) or positive");
  }
  if (options.jetstream && options.cluster && options.server_name.empty()) {
    return absl::InvalidArgumentError("a JetStream cluster node needs a server_name");
  }
  absl::StatusOr<std::string> executable = FindExecutable(options.binary);
  if (!executable.ok()) return executable.status();
  const std::string version = NatsServerVersion(*executable);
  if (options.jetstream) {
    if (absl::Status s = CheckJetStreamVersion(*executable, version); !s.ok()) return s;
  }

  std::unique_ptr<NatsServerProcess> server(new NatsServerProcess());
  server->executable_ = *executable;
  server->version_ = version;
  std::string dir = (std::filesystem::temp_directory_path() / "latentbus-nats-XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot create ", dir, ": ", strerror(errno)));
  }
  server->work_dir_ = dir;
  if (options.jetstream) {
    server->store_dir_ =
        options.store_dir.empty() ? absl::StrCat(dir, "/store") : options.store_dir;
    std::error_code ec;
    std::filesystem::create_directories(server->store_dir_, ec);
    if (ec) {
      return absl::UnavailableError(absl::StrCat("cannot create the JetStream store ",
                                                 server->store_dir_, ": ", ec.message()));
    }
  }
  if (absl::Status s = server->StartOnFreePorts(options); !s.ok()) return s;
  return server;
}

absl::Status NatsServerProcess::StartOnFreePorts(const NatsServerOptions& requested) {
  absl::Status status;
  for (int attempt = 1; attempt <= kStartAttempts; ++attempt) {
    options_ = requested;
    std::vector<int*> unset;
    for (int* port : {&options_.port, &options_.monitor_port,
                      options_.cluster ? &options_.cluster->port : nullptr}) {
      if (port != nullptr && *port == 0) unset.push_back(port);
    }
    absl::StatusOr<std::vector<int>> picked = FreeLoopbackPorts(static_cast<int>(unset.size()));
    if (!picked.ok()) return picked.status();
    for (size_t i = 0; i < unset.size(); ++i) *unset[i] = (*picked)[i];

    const std::string config = NatsServerConfig(options_, store_dir_);
    if (absl::Status s = WriteFile(absl::StrCat(work_dir_, "/", kConfigFile), config); !s.ok()) {
      return s;
    }
    if (absl::Status s = WriteFile(absl::StrCat(work_dir_, "/", kLogFile), ""); !s.ok()) return s;
    status = Launch();
    if (status.ok() || unset.empty() || !LostPortRace(status)) return status;
  }
  return status;
}

absl::Status NatsServerProcess::Launch() {
  const std::string log = absl::StrCat(work_dir_, "/", kLogFile);
  const std::streamoff log_start = FileSize(log);
  absl::StatusOr<pid_t> pid =
      SpawnLogged({executable_, "-c", absl::StrCat(work_dir_, "/", kConfigFile)}, log);
  if (!pid.ok()) return pid.status();
  pid_ = *pid;
  const absl::Time deadline = absl::Now() + options_.start_timeout;
  // Ready when this run logged it (every listener is up; a port that another process
  // holds makes the server exit instead) and the client port answers.
  while (!absl::StrContains(ReadFrom(log, log_start), kReadyLine) ||
         !AcceptsConnections(options_.port)) {
    if (!Running()) {
      return absl::UnavailableError(
          absl::StrCat(Describe(), " ", exit_description_, " at start:\n", LogTail()));
    }
    if (absl::Now() > deadline) {
      Stop();
      return absl::UnavailableError(absl::StrCat(Describe(), " was not ready within ",
                                                 absl::FormatDuration(options_.start_timeout),
                                                 ":\n", LogTail()));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  if (options_.jetstream && !options_.cluster) {
    absl::Status ready = WaitNatsReady({this}, /*clustered=*/false, deadline - absl::Now());
    if (!ready.ok()) {
      Stop();
      return absl::UnavailableError(ready.message());
    }
  }
  return absl::OkStatus();
}

NatsServerProcess::~NatsServerProcess() {
  Stop();
  if (!work_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(work_dir_, ec);
  }
}

std::string NatsServerProcess::url() const {
  return absl::StrCat("nats://127.0.0.1:", options_.port);
}

std::string NatsServerProcess::Describe() const {
  return absl::StrCat("nats-server ", options_.server_name, options_.server_name.empty() ? "" : " ",
                      "on 127.0.0.1:", options_.port);
}

void NatsServerProcess::Reaped(int wait_status) {
  exit_description_ = WIFSIGNALED(wait_status)
                          ? absl::StrCat("was killed by signal ", WTERMSIG(wait_status), " (",
                                         strsignal(WTERMSIG(wait_status)), ")")
                          : absl::StrCat("exited with status ", WEXITSTATUS(wait_status));
  pid_ = -1;
}

bool NatsServerProcess::Running() {
  if (pid_ <= 0) return false;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_ || (r < 0 && errno == ECHILD)) {
    Reaped(status);
    return false;
  }
  return true;
}

absl::Status NatsServerProcess::Signal(int sig) {
  if (!Running()) {
    return absl::FailedPreconditionError(
        absl::StrCat(Describe(), " is not running (", exit_description_, ")"));
  }
  if (kill(pid_, sig) != 0) {
    return absl::InternalError(absl::StrCat("kill(", pid_, ", ", sig, "): ", strerror(errno)));
  }
  if (sig == SIGKILL) {
    Reaped(*ReapWithin(pid_, absl::InfiniteDuration()));
    return absl::OkStatus();
  }
  if (sig != SIGSTOP && sig != SIGCONT) return absl::OkStatus();
  const bool want_stopped = sig == SIGSTOP;
  const absl::Time deadline = absl::Now() + kSignalSettle;
  while (IsStopped(pid_) != want_stopped) {
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(Describe(), want_stopped ? " did not stop" : " did not continue", " within ",
                       absl::FormatDuration(kSignalSettle)));
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  return absl::OkStatus();
}

absl::Status NatsServerProcess::Restart() {
  if (Running()) Stop();
  {
    std::ofstream log(absl::StrCat(work_dir_, "/", kLogFile), std::ios::app);
    log << "[latentbus] restart (the previous run " << exit_description_ << ")\n";
  }
  return Launch();
}

void NatsServerProcess::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  kill(pid_, SIGCONT);
  std::optional<int> status = ReapWithin(pid_, kStopGrace);
  if (!status) {
    kill(pid_, SIGKILL);
    status = ReapWithin(pid_, absl::InfiniteDuration());
  }
  Reaped(*status);
}

double NatsServerProcess::CpuSeconds() const {
  if (pid_ <= 0) return 0;
  const std::vector<std::string> f = ProcStatFields(pid_);
  // f[0] is field 3 (state); utime and stime are fields 14 and 15.
  if (f.size() < 13) return 0;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  return (std::stod(f[11]) + std::stod(f[12])) / ticks;
}

std::string NatsServerProcess::LogTail(size_t max_bytes) const {
  const std::string log = absl::StrCat(work_dir_, "/", kLogFile);
  return ReadFrom(
      log, std::max<std::streamoff>(0, FileSize(log) - static_cast<std::streamoff>(max_bytes)));
}

}  // namespace latentbus::nats
