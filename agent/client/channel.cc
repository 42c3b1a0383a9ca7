#include "agent/client/channel.h"

#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace latentbus::agent {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& what, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", what, " '", path, "'"));
  std::ostringstream s;
  s << in.rdbuf();
  if (s.str().empty())
    return absl::InvalidArgumentError(absl::StrCat(what, " '", path, "' is empty"));
  return s.str();
}

}  // namespace

absl::Status CheckBrokerAddress(const std::string& address) {
  if (address.empty()) return absl::InvalidArgumentError("no broker address given");
  for (absl::string_view scheme : {"dns:", "unix:", "unix-abstract:", "ipv4:", "ipv6:"}) {
    if (absl::StartsWith(address, scheme)) return absl::OkStatus();
  }
  auto bad = [&address](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("broker address '", absl::CHexEscape(address),
                                                   "' ", why, " (expected host:port, e.g. ",
                                                   kDefaultBrokerAddress, ")"));
  };
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return bad("has no port");
  absl::string_view host = absl::string_view(address).substr(0, colon);
  absl::string_view port = absl::string_view(address).substr(colon + 1);
  if (host.empty()) return bad("has no host");
  if (absl::StrContains(host, ':') && !(host.front() == '[' && host.back() == ']')) {
    return bad("has an IPv6 host without [brackets]");
  }
  for (char c : host) {
    if (c <= ' ' || c > '~') return bad("has a space or non-printable byte in its host");
  }
  int number = 0;
  if (port.empty() || !absl::SimpleAtoi(port, &number) || number < 1 || number > 65535 ||
      port.find_first_not_of("0123456789") != absl::string_view::npos) {
    return bad(absl::StrCat("has '", absl::CHexEscape(port), "' where a port (1-65535) belongs"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const ChannelOptions& options) {
  if (absl::Status s = CheckBrokerAddress(options.address); !s.ok()) return s;
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return absl::InvalidArgumentError("a client certificate needs both --tls-cert and --tls-key");
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (options.tls_ca_file.empty()) {
    if (!options.tls_cert_file.empty()) {
      return absl::InvalidArgumentError("a client certificate needs TLS (--tls-ca)");
    }
    credentials = grpc::InsecureChannelCredentials();
  } else {
    grpc::SslCredentialsOptions ssl;
    absl::StatusOr<std::string> roots = ReadPem("TLS CA file", options.tls_ca_file);
    if (!roots.ok()) return roots.status();
    ssl.pem_root_certs = *std::move(roots);
    if (!options.tls_cert_file.empty()) {
      absl::StatusOr<std::string> cert = ReadPem("TLS certificate", options.tls_cert_file);
      if (!cert.ok()) return cert.status();
      absl::StatusOr<std::string> key = ReadPem("TLS key", options.tls_key_file);
      if (!key.ok()) return key.status();
      ssl.pem_cert_chain = *std::move(cert);
      ssl.pem_private_key = *std::move(key);
    }
    credentials = grpc::SslCredentials(ssl);
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);  // above any broker's max_message_bytes
  args.SetMaxSendMessageSize(64 << 20);     // the broker refuses oversize with a reason
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  return grpc::CreateCustomChannel(options.address, credentials, args);
}

void AddToken(grpc::ClientContext* context, const std::string& token) {
  if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

}  // namespace latentbus::agent
