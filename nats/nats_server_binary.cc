#include "nats/nats_server_binary.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace latentbus::nats {
namespace {

bool IsExecutable(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

// "2.15." for "2.15.1": the release line whose patch releases are accepted.
std::string PinnedMinorLine() {
  const std::string pinned = kPinnedNatsServerVersion;
  return pinned.substr(0, pinned.rfind('.') + 1);
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

std::string NatsServerVersion(const std::string& executable) {
  const std::string quoted = absl::StrCat("'", absl::StrReplaceAll(executable, {{"'", "'\\''"}}),
                                          "' --version 2>&1 </dev/null");
  std::string out;
  FILE* p = popen(quoted.c_str(), "r");
  if (p == nullptr) return out;
  char buf[256];
  while (fgets(buf, sizeof(buf), p) != nullptr) out += buf;
  pclose(p);
  return std::string(absl::StripTrailingAsciiWhitespace(out));
}

absl::Status CheckJetStreamVersion(const std::string& executable, const std::string& version) {
  // "nats-server: v2.15.1" -> "2.15.1".
  const size_t v = version.rfind(" v");
  const std::string number = v == std::string::npos ? "" : version.substr(v + 2);
  if (absl::StartsWith(number, PinnedMinorLine())) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "JetStream needs nats-server ", PinnedMinorLine(), "x (the pinned ", kPinnedNatsServerVersion,
      "), but ", executable, " reports '", version,
      "'. JetStream before 2.10.23 can lose or delete streams, and Debian's nats-server is "
      "2.9.10: run scripts/install-nats-server.sh, or name another binary with "
      "LATENTBUS_NATS_SERVER"));
}

}  // namespace latentbus::nats
