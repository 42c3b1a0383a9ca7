// Broker errors: an absl::Status that carries a latentbus.v1.ErrorReason. The mapping
// itself lives in proto/error_reason.h (shared with the client SDK); the broker names
// its refusals BrokerError(reason, detail).
//
// Thread safety: pure functions.
#ifndef LATENTBUS_BROKER_ERRORS_H_
#define LATENTBUS_BROKER_ERRORS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "proto/error_reason.h"

namespace latentbus::broker {

inline absl::Status BrokerError(v1::ErrorReason reason, absl::string_view detail) {
  return wire::ReasonError(reason, detail);
}
using wire::CodeForReason;
using wire::HasReason;
using wire::ReasonName;
using wire::ReasonOf;
using wire::ToErrorProto;

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_ERRORS_H_
