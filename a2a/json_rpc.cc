#include "a2a/json_rpc.h"

#include <utility>

#include "proto/error_reason.h"

namespace latentbus::a2a {

using nlohmann::json;

std::optional<RpcRequest> ParseRequest(std::string_view body, RpcError* error, json* id) {
  *id = nullptr;
  json doc = json::parse(body, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    *error = {kParseError, "the body is not JSON", "PARSE_ERROR"};
    return std::nullopt;
  }
  if (!doc.is_object()) {
    *error = {kInvalidRequest, "a JSON-RPC request is an object (batches are not accepted)",
              "INVALID_REQUEST"};
    return std::nullopt;
  }
  if (auto it = doc.find("id"); it != doc.end() && (it->is_string() || it->is_number())) {
    *id = *it;
  }
  const auto version = doc.find("jsonrpc");
  const auto method = doc.find("method");
  if (version == doc.end() || *version != "2.0" || method == doc.end() || !method->is_string()) {
    *error = {kInvalidRequest, "not a JSON-RPC 2.0 request (jsonrpc \"2.0\" and a method)",
              "INVALID_REQUEST"};
    return std::nullopt;
  }
  RpcRequest request;
  request.id = *id;
  request.method = method->get<std::string>();
  if (auto p = doc.find("params"); p != doc.end() && !p->is_null()) {
    if (!p->is_object()) {
      *error = {kInvalidParams, "params must be an object", "INVALID_PARAMS"};
      return std::nullopt;
    }
    request.params = std::move(*p);
  } else {
    request.params = json::object();
  }
  return request;
}

json ResultObject(const json& id, json result) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

json ErrorObject(const json& id, const RpcError& error) {
  json e = {{"code", error.code}, {"message", error.message}};
  if (!error.reason.empty()) {
    e["data"] = json::array({{{"@type", "type.googleapis.com/google.rpc.ErrorInfo"},
                              {"reason", error.reason},
                              {"domain", "latentbus"}}});
  }
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(e)}};
}

bool VersionSupported(std::string_view header) {
  // "1.0" or "1.0.<patch>": the patch does not matter.
  return header == "1.0" || (header.size() > 4 && header.substr(0, 4) == "1.0.");
}

RpcError ErrorFromStatus(const absl::Status& status) {
  RpcError e;
  e.message = std::string(status.message());
  e.reason = wire::HasReason(status) ? wire::ReasonName(wire::ReasonOf(status))
                                     : std::string(absl::StatusCodeToString(status.code()));
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      e.code = kTaskNotFound;
      break;
    case absl::StatusCode::kFailedPrecondition:
      e.code = kTaskNotCancelable;
      break;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      e.code = kInvalidParams;
      break;
    default:
      e.code = kInternalError;
  }
  return e;
}

}  // namespace latentbus::a2a
