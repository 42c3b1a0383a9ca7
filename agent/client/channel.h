// The gRPC channel and per-call metadata a client uses to reach a broker: plaintext or
// TLS (roots from a PEM file, optional client certificate for mTLS), a bearer token on
// every call, keepalive, and message limits above the broker's own.
//
// Thread safety: pure functions; the channel they return is thread-safe.
#ifndef LATENTBUS_AGENT_CLIENT_CHANNEL_H_
#define LATENTBUS_AGENT_CLIENT_CHANNEL_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"

namespace latentbus::agent {

struct ChannelOptions {
  std::string address;
  std::string tls_ca_file;    // non-empty: TLS with these roots
  std::string tls_cert_file;  // mTLS client certificate chain
  std::string tls_key_file;   // mTLS client key
};

// The default broker address: where `latentbus broker` listens unless told otherwise,
// and where every command of the CLI looks for it.
inline constexpr char kDefaultBrokerAddress[] = "127.0.0.1:7070";

// OK for host:port (a name, IPv4, or [IPv6]; port 1..65535) or a gRPC URI with a scheme
// (dns:, unix:, ipv4:, ipv6:); INVALID_ARGUMENT naming what is wrong otherwise.
absl::Status CheckBrokerAddress(const std::string& address);

// INVALID_ARGUMENT for a malformed address (CheckBrokerAddress); NOT_FOUND /
// INVALID_ARGUMENT when a PEM file cannot be read or only half of the client
// certificate pair is given.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const ChannelOptions& options);

// Adds `authorization: Bearer <token>` (nothing for an empty token).
void AddToken(grpc::ClientContext* context, const std::string& token);

// grpc::Status -> absl::Status (the codes are numerically the same).
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace latentbus::agent

#endif  // LATENTBUS_AGENT_CLIENT_CHANNEL_H_
