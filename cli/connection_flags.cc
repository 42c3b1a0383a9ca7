#include "cli/connection_flags.h"

#include <unistd.h>

#include <fstream>

#include "absl/strings/str_cat.h"

namespace latentbus::cli {

void AddConnectionFlags(CLI::App* cmd, ConnectionFlags* f, const std::string& id_help) {
  cmd->add_option(
         "--broker", f->broker,
         "broker address host:port, or several of one cluster, comma-separated (failover in order)")
      ->capture_default_str();
  if (!id_help.empty()) cmd->add_option("--id", f->id, id_help);
  cmd->add_option("--token", f->token, "bearer token (prefer --token-file)");
  cmd->add_option("--token-file", f->token_file, "file holding the bearer token")
      ->check(CLI::ExistingFile);
  cmd->add_option("--tls-ca", f->tls_ca, "PEM CA bundle; enables TLS")->check(CLI::ExistingFile);
  cmd->add_option("--tls-cert", f->tls_cert, "PEM client certificate (mTLS)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--tls-key", f->tls_key, "PEM client key (mTLS)")->check(CLI::ExistingFile);
  cmd->add_option("--connect-timeout", f->connect_timeout, "seconds to reach the broker")
      ->capture_default_str();
}

absl::StatusOr<agent::ClientOptions> ToClientOptions(const ConnectionFlags& f) {
  agent::ClientOptions o;
  o.address = f.broker;
  o.agent_id = f.id.empty() ? absl::StrCat("cli-", getpid()) : f.id;
  o.token = f.token;
  if (!f.token_file.empty()) {
    std::ifstream in(f.token_file);
    std::getline(in, o.token);
    if (o.token.empty()) return absl::InvalidArgumentError("the --token-file is empty");
  }
  o.tls_ca_file = f.tls_ca;
  o.tls_cert_file = f.tls_cert;
  o.tls_key_file = f.tls_key;
  o.connect_timeout = absl::Seconds(f.connect_timeout);
  return o;
}

}  // namespace latentbus::cli
