#include "bench/nats_server_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

extern char** environ;

namespace latentbus::bench {
namespace {

bool IsExecutable(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

// A loopback port nobody listens on right now (the kernel's pick for port 0).
absl::StatusOr<int> FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::UnavailableError("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  close(fd);
  if (!ok) return absl::UnavailableError("cannot find a free loopback port");
  return ntohs(addr.sin_port);
}

bool AcceptsConnections(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

std::string CommandOutput(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return out;
  char buf[256];
  while (fgets(buf, sizeof(buf), p) != nullptr) out += buf;
  pclose(p);
  return std::string(absl::StripTrailingAsciiWhitespace(out));
}

}  // namespace

std::string DefaultNatsServer() {
  if (const char* named = std::getenv("LATENTBUS_NATS_SERVER"); named && *named) return named;
  std::string dir;
  if (const char* d = std::getenv("LATENTBUS_NATS_DIR"); d && *d) {
    dir = d;
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    dir = absl::StrCat(home, "/.cache/latentbus/nats-server-", kPinnedNatsServerVersion);
  }
  if (!dir.empty()) {
    std::string pinned = absl::StrCat(dir, "/bin/nats-server");
    if (IsExecutable(pinned)) return pinned;
  }
  return "nats-server";
}

absl::StatusOr<std::string> FindExecutable(const std::string& binary) {
  if (binary.find('/') != std::string::npos) {
    if (IsExecutable(binary)) return binary;
    return absl::NotFoundError(absl::StrCat(binary, " is not an executable file"));
  }
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("PATH")) dirs = absl::StrSplit(path, ':', absl::SkipEmpty());
  dirs.push_back("/usr/sbin");
  dirs.push_back("/usr/local/sbin");
  for (const std::string& d : dirs) {
    std::string candidate = absl::StrCat(d, "/", binary);
    if (IsExecutable(candidate)) return candidate;
  }
  return absl::NotFoundError(
      absl::StrCat(binary,
                   " not found in PATH or /usr/sbin (scripts/install-nats-server.sh installs the "
                   "pinned nats-server ",
                   kPinnedNatsServerVersion, ")"));
}

absl::StatusOr<std::unique_ptr<NatsServerProcess>> NatsServerProcess::Start(
    const std::string& binary, uint64_t max_payload) {
  absl::StatusOr<std::string> exe = FindExecutable(binary);
  if (!exe.ok()) return exe.status();
  absl::StatusOr<int> port = FreeLoopbackPort();
  if (!port.ok()) return port.status();

  std::unique_ptr<NatsServerProcess> server(new NatsServerProcess());
  server->port_ = *port;
  server->version_ = CommandOutput(absl::StrCat("'", *exe, "' --version 2>&1"));
  char dir[] = "/tmp/latentbus-nats-XXXXXX";
  if (mkdtemp(dir) == nullptr) return absl::UnavailableError("cannot create a temporary folder");
  server->dir_ = dir;
  const std::string config = absl::StrCat(server->dir_, "/nats.conf");
  const std::string log = absl::StrCat(server->dir_, "/nats.log");
  {
    std::ofstream out(config);
    out << "listen: 127.0.0.1:" << *port << "\n"
        << "max_payload: " << std::max<uint64_t>(max_payload, 1u << 20) << "\n";
    if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", config));
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<std::string> args = {*exe, "-c", config};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, exe->c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return absl::UnavailableError(absl::StrCat("cannot start ", *exe));
  server->pid_ = pid;

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!AcceptsConnections(*port)) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      server->pid_ = -1;
      return absl::UnavailableError(
          absl::StrCat("nats-server exited at start:\n", server->LogTail()));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return absl::UnavailableError(
          absl::StrCat("nats-server did not listen within 5 s:\n", server->LogTail()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return server;
}

NatsServerProcess::~NatsServerProcess() { Stop(); }

std::string NatsServerProcess::url() const { return absl::StrCat("nats://127.0.0.1:", port_); }

std::string NatsServerProcess::LogTail() const {
  std::ifstream in(dir_ + "/nats.log");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  return text.size() > 2000 ? text.substr(text.size() - 2000) : text;
}

double NatsServerProcess::CpuSeconds() const {
  if (pid_ <= 0) return 0;
  std::ifstream in(absl::StrCat("/proc/", pid_, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::vector<std::string> f = absl::StrSplit(stat.substr(close + 2), ' ');
  // f[0] is field 3 (state); utime and stime are fields 14 and 15.
  if (f.size() < 13) return 0;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  return (std::stod(f[11]) + std::stod(f[12])) / ticks;
}

void NatsServerProcess::Stop() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    dir_.clear();
  }
}

}  // namespace latentbus::bench
