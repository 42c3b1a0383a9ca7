// An absl::Status that carries a latentbus.v1.ErrorReason: the one mapping between the
// wire's Error frames and absl::Status, shared by the broker and the client SDK.
//
// A refusal is built with ReasonError(reason, detail): the status code
// is the canonical one for the reason (QUEUE_FULL -> RESOURCE_EXHAUSTED, ...) and the
// reason itself travels as a status payload, so it survives being returned through
// absl::StatusOr and can be turned into an Error frame (ToErrorProto) or a gRPC status
// (broker/grpc_status.h) at the edge.
//
// Thread safety: pure functions.
#ifndef LATENTBUS_PROTO_ERROR_REASON_H_
#define LATENTBUS_PROTO_ERROR_REASON_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "latentbus/v1/broker.pb.h"

namespace latentbus::wire {

// The status code ReasonError uses for `reason`.
absl::StatusCode CodeForReason(v1::ErrorReason reason);

// A non-OK status with the canonical code for `reason` and `reason` as payload.
absl::Status ReasonError(v1::ErrorReason reason, absl::string_view detail);

// The reason carried by `status`; for a status built elsewhere, one derived from its
// code (INTERNAL when nothing fits). ERROR_REASON_UNSPECIFIED for OK.
v1::ErrorReason ReasonOf(const absl::Status& status);

// True when `status` was built by ReasonError (carries a reason payload).
bool HasReason(const absl::Status& status);

// The reasons an Error frame gives for some recipients of a send the broker accepted
// (the others got it): QUEUE_FULL, MESSAGE_TOO_LARGE, INTERNAL. The broker reports every
// other per-recipient failure as INTERNAL; a client keeps a topic request alive past them.
bool IsPerRecipientReason(v1::ErrorReason reason);

// "QUEUE_FULL", ... ("ERROR_REASON_UNSPECIFIED" for unknown values).
std::string ReasonName(v1::ErrorReason reason);

// `status` for people: "REASON: detail" with the reason's name when it carries one
// (never the payload's type URL and number), else "CODE: detail" with the gRPC code's
// name ("UNAVAILABLE: cannot connect ..."); "OK" for OK.
std::string Describe(const absl::Status& status);

// An Error frame for a non-OK `status`.
v1::Error ToErrorProto(const absl::Status& status, absl::string_view message_id = "",
                       uint64_t seq = 0);

// The status an Error frame stands for (its reason as payload; the agent ids it names
// appended to the message).
absl::Status FromErrorProto(const v1::Error& error);

}  // namespace latentbus::wire

#endif  // LATENTBUS_PROTO_ERROR_REASON_H_
