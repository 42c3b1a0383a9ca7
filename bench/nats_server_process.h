// A nats-server child process for `latentbus bench bus`'s second baseline: started on a
// free loopback port with a generated config, stopped (SIGTERM, then SIGKILL) and reaped
// afterwards. Its log goes to a temporary folder removed with it.
//
// Thread safety: one owner thread.
#ifndef LATENTBUS_BENCH_NATS_SERVER_PROCESS_H_
#define LATENTBUS_BENCH_NATS_SERVER_PROCESS_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace latentbus::bench {

// The nats-server release the project pins (scripts/install-nats-server.sh).
inline constexpr char kPinnedNatsServerVersion[] = "2.15.1";

// The nats-server to run when none is named: $LATENTBUS_NATS_SERVER when set, else the
// pinned one where scripts/install-nats-server.sh puts it
// (~/.cache/latentbus/nats-server-<version>/bin/nats-server, or $LATENTBUS_NATS_DIR) when
// it is there, else "nats-server" (looked up in PATH).
std::string DefaultNatsServer();

class NatsServerProcess {
 public:
  // `binary`: a path, or a name looked up in PATH and then /usr/sbin, /usr/local/sbin
  // (Debian installs nats-server in /usr/sbin). `max_payload`: the largest message the
  // server accepts, in bytes (the default 1 MiB is raised when payloads need it).
  // NotFound when the binary is missing; Unavailable (with its log's tail) when it does
  // not accept connections within 5 s.
  static absl::StatusOr<std::unique_ptr<NatsServerProcess>> Start(const std::string& binary,
                                                                  uint64_t max_payload);
  ~NatsServerProcess();  // Stop()

  // "nats://127.0.0.1:<port>".
  std::string url() const;
  int port() const { return port_; }
  // What `nats-server --version` printed, e.g. "nats-server: v2.9.10".
  const std::string& version() const { return version_; }

  // CPU seconds (user + system) the server process has used so far; 0 once stopped.
  double CpuSeconds() const;

  // Idempotent.
  void Stop();

 private:
  NatsServerProcess() = default;
  std::string LogTail() const;

  pid_t pid_ = -1;
  int port_ = 0;
  std::string dir_;
  std::string version_;
};

// The absolute path of `binary` (see Start), or NotFound.
absl::StatusOr<std::string> FindExecutable(const std::string& binary);

}  // namespace latentbus::bench

#endif  // LATENTBUS_BENCH_NATS_SERVER_PROCESS_H_
