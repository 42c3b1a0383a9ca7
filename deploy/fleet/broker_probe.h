// Questions to a running broker over plaintext gRPC, each with a deadline: its
// grpc.health.v1 status (what Kubernetes probes ask) and its ListAgents answer.
//
// Thread safety: safe for concurrent use (gRPC channels and stubs are).
#ifndef LATENTBUS_DEPLOY_FLEET_BROKER_PROBE_H_
#define LATENTBUS_DEPLOY_FLEET_BROKER_PROBE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "latentbus/v1/broker.pb.h"

namespace grpc {
class Channel;
}

namespace latentbus::fleet {

class BrokerProbe {
 public:
  // `token`: bearer token for ListAgents when the broker has tokens ("" = none).
  explicit BrokerProbe(const std::string& address, std::string token = "");

  // True for SERVING, false for NOT_SERVING (draining) or UNKNOWN; an error status
  // (UNAVAILABLE, DEADLINE_EXCEEDED, ...) when the broker does not answer.
  absl::StatusOr<bool> Serving(absl::Duration timeout) const;
  // The agents the broker knows. PERMISSION_DENIED / UNAUTHENTICATED without an admin
  // token when authentication is on.
  absl::StatusOr<std::vector<v1::AgentInfo>> ListAgents(absl::Duration timeout) const;

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::string token_;
};

}  // namespace latentbus::fleet

#endif  // LATENTBUS_DEPLOY_FLEET_BROKER_PROBE_H_
