// Message classes by the names people and metadata use: "context", "reasoning",
// "instruction", "result", "control" (case-insensitive) <-> v1::MessageClass.
#ifndef LATENTBUS_PROTO_MESSAGE_CLASS_H_
#define LATENTBUS_PROTO_MESSAGE_CLASS_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "latentbus/v1/envelope.pb.h"

namespace latentbus::wire {

// INVALID_ARGUMENT naming the accepted names for anything else (UNSPECIFIED included).
absl::StatusOr<v1::MessageClass> ParseMessageClass(absl::string_view name);

}  // namespace latentbus::wire

#endif  // LATENTBUS_PROTO_MESSAGE_CLASS_H_
