// The A2A protocol's JSON shapes (protocol 1.0, lf.a2a.v1, in its JSON form: camelCase
// field names, enums by name) for what the gateway sends and reads: the caller's
// SendMessage parameters in, tasks, messages, artifacts and stream events out.
//
// A task's history is the caller's message followed by one agent message per reply; each
// reply is also an artifact ("reply-<n>", its text as one text part) whose metadata says
// which agent replied and in which form the request reached it (latent or text).
//
// Thread safety: free functions without shared state.
#ifndef LATENTBUS_A2A_TASK_JSON_H_
#define LATENTBUS_A2A_TASK_JSON_H_

#include <optional>
#include <string>

#include "a2a/json_rpc.h"
#include "a2a/task_store.h"
#include "nlohmann/json.hpp"

namespace latentbus::a2a {

// Metadata keys a caller may set on the message (or on the request) to steer the bus.
inline constexpr char kMetaMessageClass[] = "latentbus.messageClass";  // "context", ...
inline constexpr char kMetaTimeout[] = "latentbus.timeoutSeconds";     // the reply deadline
inline constexpr char kMetaInstruction[] = "latentbus.instruction";    // for model agents

// What the gateway needs from SendMessage / SendStreamingMessage parameters.
struct SendParams {
  std::string message_id;  // the caller's
  std::string context_id;  // "" = the gateway picks one
  std::string text;        // the text parts, joined by newlines
  std::string message_class = "context";
  std::optional<double> timeout_seconds;
  std::string instruction;
  bool return_immediately = false;
  std::optional<int> history_length;
  nlohmann::json message;  // the caller's message as sent (kept as history)
};

// Reads the parameters; nullopt with `error` set when they are unusable: no message, no
// text part (kContentTypeNotSupported for file or data parts: the bus carries text),
// a task id (a latentbus task is one message and its replies, not a conversation), bad
// metadata values (kInvalidParams).
std::optional<SendParams> ParseSendParams(const nlohmann::json& params, RpcError* error);

// A Task object; `history_length` limits the history to its last entries (0: none).
nlohmann::json TaskJson(const Task& task, std::optional<int> history_length = std::nullopt);

// A StreamResponse for one of the task's events: the status (statusUpdate) or a reply
// (artifactUpdate).
nlohmann::json StreamEventJson(const Task& task, const TaskEvent& event);

// RFC 3339 in UTC with milliseconds, as protobuf's JSON form writes a Timestamp.
std::string Rfc3339(absl::Time t);

}  // namespace latentbus::a2a

#endif  // LATENTBUS_A2A_TASK_JSON_H_
