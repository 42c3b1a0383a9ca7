#include "proto/error_reason.h"

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/types/optional.h"

namespace latentbus::wire {
namespace {

constexpr absl::string_view kReasonPayload = "type.latentbus.dev/latentbus.v1.ErrorReason";

}  // namespace

absl::StatusCode CodeForReason(v1::ErrorReason reason) {
  switch (reason) {
    case v1::NEEDS_TEXT:
    case v1::NOT_REGISTERED:
    case v1::UNKNOWN_MODEL:
      return absl::StatusCode::kFailedPrecondition;
    case v1::NO_ROUTE:
      return absl::StatusCode::kNotFound;
    case v1::UNAUTHENTICATED:
      return absl::StatusCode::kUnauthenticated;
    case v1::PERMISSION_DENIED:
      return absl::StatusCode::kPermissionDenied;
    case v1::INVALID_PACKET:
    case v1::INVALID_ARGUMENT:
      return absl::StatusCode::kInvalidArgument;
    case v1::QUEUE_FULL:
    case v1::MESSAGE_TOO_LARGE:
    case v1::RATE_LIMITED:
    case v1::TOO_MANY_TOPICS:
    case v1::NO_CREDIT:
      return absl::StatusCode::kResourceExhausted;
    case v1::DEADLINE_EXCEEDED:
      return absl::StatusCode::kDeadlineExceeded;
    case v1::DRAINING:
      return absl::StatusCode::kUnavailable;
    default:
      return absl::StatusCode::kInternal;
  }
}

absl::Status ReasonError(v1::ErrorReason reason, absl::string_view detail) {
  absl::Status status(CodeForReason(reason), detail);
  status.SetPayload(kReasonPayload, absl::Cord(std::to_string(static_cast<int>(reason))));
  return status;
}

v1::ErrorReason ReasonOf(const absl::Status& status) {
  if (status.ok()) return v1::ERROR_REASON_UNSPECIFIED;
  absl::optional<absl::Cord> payload = status.GetPayload(kReasonPayload);
  int value = 0;
  if (payload.has_value() && absl::SimpleAtoi(std::string(*payload), &value) &&
      v1::ErrorReason_IsValid(value)) {
    return static_cast<v1::ErrorReason>(value);
  }
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return v1::INVALID_ARGUMENT;
    case absl::StatusCode::kUnauthenticated:
      return v1::UNAUTHENTICATED;
    case absl::StatusCode::kPermissionDenied:
      return v1::PERMISSION_DENIED;
    case absl::StatusCode::kDeadlineExceeded:
      return v1::DEADLINE_EXCEEDED;
    case absl::StatusCode::kNotFound:
      return v1::NO_ROUTE;
    case absl::StatusCode::kUnavailable:
      return v1::DRAINING;
    default:
      return v1::INTERNAL;
  }
}

bool HasReason(const absl::Status& status) { return status.GetPayload(kReasonPayload).has_value(); }

bool IsPerRecipientReason(v1::ErrorReason reason) {
  return reason == v1::QUEUE_FULL || reason == v1::MESSAGE_TOO_LARGE || reason == v1::INTERNAL;
}

std::string ReasonName(v1::ErrorReason reason) {
  if (!v1::ErrorReason_IsValid(reason)) return "ERROR_REASON_UNSPECIFIED";
  return v1::ErrorReason_Name(reason);
}

std::string Describe(const absl::Status& status) {
  if (status.ok()) return "OK";
  const std::string name =
      HasReason(status) ? ReasonName(ReasonOf(status)) : absl::StatusCodeToString(status.code());
  absl::string_view message = status.message();
  if (absl::StartsWith(message, absl::StrCat(name, ":"))) return std::string(message);
  return message.empty() ? name : absl::StrCat(name, ": ", message);
}

v1::Error ToErrorProto(const absl::Status& status, absl::string_view message_id, uint64_t seq) {
  v1::Error error;
  error.set_reason(ReasonOf(status));
  error.set_detail(std::string(status.message()));
  error.set_message_id(std::string(message_id));
  error.set_seq(seq);
  return error;
}

absl::Status FromErrorProto(const v1::Error& error) {
  v1::ErrorReason reason = error.reason();
  if (reason == v1::ERROR_REASON_UNSPECIFIED || !v1::ErrorReason_IsValid(reason)) {
    reason = v1::INTERNAL;
  }
  std::string detail = absl::StrCat(ReasonName(reason), ": ", error.detail());
  if (error.agent_ids_size() > 0) {
    absl::StrAppend(&detail, " (agents: ", absl::StrJoin(error.agent_ids(), ", "), ")");
  }
  return ReasonError(reason, detail);
}

}  // namespace latentbus::wire
