// JSON-RPC 2.0 as the A2A protocol's JSON-RPC binding uses it: request parsing, result and
// error objects, and the protocol's error codes.
//
// Errors carry, besides code and message, a google.rpc.ErrorInfo in `data` (reason: the
// latentbus ErrorReason or a gateway reason; domain "latentbus"), as A2A 1.0 clients read it.
//
// Thread safety: free functions without shared state.
#ifndef LATENTBUS_A2A_JSON_RPC_H_
#define LATENTBUS_A2A_JSON_RPC_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace latentbus::a2a {

// JSON-RPC's own codes and A2A's.
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;
inline constexpr int kTaskNotFound = -32001;
inline constexpr int kTaskNotCancelable = -32002;
inline constexpr int kPushNotificationNotSupported = -32003;
inline constexpr int kUnsupportedOperation = -32004;
inline constexpr int kContentTypeNotSupported = -32005;
inline constexpr int kExtendedAgentCardNotConfigured = -32007;
inline constexpr int kVersionNotSupported = -32009;

struct RpcError {
  int code = kInternalError;
  std::string message;
  std::string reason;  // ErrorInfo.reason ("" = none)
};

struct RpcRequest {
  nlohmann::json id;  // string, number or null, echoed in the answer
  std::string method;
  nlohmann::json params;  // an object (empty when absent)
};

// Parses one request; on failure fills `error` (kParseError / kInvalidRequest) and `id`
// (whatever id could be read, else null) and returns nullopt. Batches are refused.
std::optional<RpcRequest> ParseRequest(std::string_view body, RpcError* error, nlohmann::json* id);

nlohmann::json ResultObject(const nlohmann::json& id, nlohmann::json result);
nlohmann::json ErrorObject(const nlohmann::json& id, const RpcError& error);

// The protocol version a request names in its A2A-Version header: supported when its
// major.minor is 1.0. A missing header means 0.3 (the protocol's rule), which is refused.
bool VersionSupported(std::string_view header);

// A task store's status (a2a/task_store.h) as the A2A error a client sees: NOT_FOUND -> task not
// found, FAILED_PRECONDITION -> not cancelable, INVALID_ARGUMENT -> invalid params, anything else
// internal; the message is the status's and the reason its ErrorReason when it has one.
RpcError ErrorFromStatus(const absl::Status& status);

}  // namespace latentbus::a2a

#endif  // LATENTBUS_A2A_JSON_RPC_H_
