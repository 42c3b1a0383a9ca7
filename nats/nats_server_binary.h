// Which nats-server binary runs: the pinned release, where to find it, what a binary says
// its version is, and whether that version may run JetStream.
//
// Thread safety: free functions without shared state (they read the environment).
#ifndef LATENTBUS_NATS_NATS_SERVER_BINARY_H_
#define LATENTBUS_NATS_NATS_SERVER_BINARY_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace latentbus::nats {

// The nats-server release the project pins (scripts/install-nats-server.sh).
inline constexpr char kPinnedNatsServerVersion[] = "2.15.1";

// The nats-server to run when none is named: $LATENTBUS_NATS_SERVER when set, else the
// pinned one where scripts/install-nats-server.sh puts it
// (~/.cache/latentbus/nats-server-<version>/bin/nats-server, or $LATENTBUS_NATS_DIR) when
// it is there, else "nats-server" (looked up in PATH).
std::string DefaultNatsServer();

// The absolute path of `binary`: a path (kept as given), or a name looked up in PATH and
// then /usr/sbin, /usr/local/sbin (Debian installs nats-server in /usr/sbin). NotFound,
// naming `binary`, when it is not an executable file.
absl::StatusOr<std::string> FindExecutable(const std::string& binary);

// What `<executable> --version` prints, e.g. "nats-server: v2.15.1" (empty when it printed
// nothing).
std::string NatsServerVersion(const std::string& executable);

// OK when `version` (as NatsServerVersion returns it) is the pinned release's minor line,
// 2.15.x. Otherwise FailedPrecondition naming `executable`, what it reported and
// scripts/install-nats-server.sh: JetStream before 2.10.23 can lose or delete streams, and
// Debian's nats-server is 2.9.10.
absl::Status CheckJetStreamVersion(const std::string& executable, const std::string& version);

}  // namespace latentbus::nats

#endif  // LATENTBUS_NATS_NATS_SERVER_BINARY_H_
