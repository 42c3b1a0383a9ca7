#include "broker/grpc_status.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "broker/errors.h"

namespace latentbus::broker {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  std::string message =
      HasReason(status) ? absl::StrCat("[", ReasonName(ReasonOf(status)), "] ", status.message())
                        : std::string(status.message());
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), message);
}

}  // namespace latentbus::broker
