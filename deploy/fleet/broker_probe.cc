#include "deploy/fleet/broker_probe.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "latentbus/v1/broker.grpc.pb.h"

namespace latentbus::fleet {
namespace {

absl::Status FromGrpc(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

std::chrono::system_clock::time_point Deadline(absl::Duration timeout) {
  return std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout);
}

}  // namespace

BrokerProbe::BrokerProbe(const std::string& address, std::string token)
    : channel_(grpc::CreateChannel(address, grpc::InsecureChannelCredentials())),
      token_(std::move(token)) {}

absl::StatusOr<bool> BrokerProbe::Serving(absl::Duration timeout) const {
  // No generated code for grpc.health.v1 ships with Debian; the messages are tiny:
  // HealthCheckRequest{service: ""} is empty, HealthCheckResponse is field 1 (varint).
  grpc::GenericStub stub(channel_);
  grpc::ClientContext context;
  context.set_deadline(Deadline(timeout));
  grpc::Slice empty("");
  grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer response;
  grpc::Status status;
  absl::Notification done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  if (!status.ok()) return FromGrpc(status);
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return absl::DataLossError("unreadable health response");
  std::string bytes;
  for (const grpc::Slice& s : slices) {
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  // SERVING = 1; NOT_SERVING (2) and UNKNOWN (0, encoded as no field) are not serving.
  return bytes.size() == 2 && bytes[0] == 0x08 && bytes[1] == 0x01;
}

absl::StatusOr<std::vector<v1::AgentInfo>> BrokerProbe::ListAgents(absl::Duration timeout) const {
  v1::Broker::Stub stub(channel_);
  grpc::ClientContext context;
  context.set_deadline(Deadline(timeout));
  if (!token_.empty()) context.AddMetadata("authorization", absl::StrCat("Bearer ", token_));
  v1::ListAgentsResponse response;
  grpc::Status status = stub.ListAgents(&context, v1::ListAgentsRequest(), &response);
  if (!status.ok()) return FromGrpc(status);
  return std::vector<v1::AgentInfo>(response.agents().begin(), response.agents().end());
}

}  // namespace latentbus::fleet
