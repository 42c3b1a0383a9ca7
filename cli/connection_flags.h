// The flags every command that connects to a broker shares (--broker, --token,
// --token-file, --tls-*, --connect-timeout, and --id where the command registers), and
// their translation into the client SDK's options.
#ifndef LATENTBUS_CLI_CONNECTION_FLAGS_H_
#define LATENTBUS_CLI_CONNECTION_FLAGS_H_

#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "agent/client/channel.h"
#include "agent/client/client.h"

namespace latentbus::cli {

struct ConnectionFlags {
  std::string broker = agent::kDefaultBrokerAddress;
  std::string id;
  std::string token;
  std::string token_file;
  std::string tls_ca, tls_cert, tls_key;
  double connect_timeout = 10;
};

// Adds the flags; --id only when `id_help` is not empty.
void AddConnectionFlags(CLI::App* cmd, ConnectionFlags* f, const std::string& id_help);

// The client options (agent id "cli-<pid>" when --id is empty); INVALID_ARGUMENT for an
// empty --token-file.
absl::StatusOr<agent::ClientOptions> ToClientOptions(const ConnectionFlags& f);

}  // namespace latentbus::cli

#endif  // LATENTBUS_CLI_CONNECTION_FLAGS_H_
