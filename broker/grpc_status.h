// The one mapping from absl::Status to grpc::Status used by every broker RPC.
//
// absl and gRPC share numeric status codes; the message keeps the reason name in
// front ("[QUEUE_FULL] ...") when the status carries one (broker/errors.h).
// Thread safety: pure.
#ifndef LATENTBUS_BROKER_GRPC_STATUS_H_
#define LATENTBUS_BROKER_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace latentbus::broker {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_GRPC_STATUS_H_
