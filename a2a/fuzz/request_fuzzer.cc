// Fuzzes what the gateway reads from callers: a JSON-RPC body, its SendMessage parameters,
// and the caller's message kept as a task's history and written back out.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "a2a/json_rpc.h"
#include "a2a/task_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace latentbus::a2a;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  RpcError error;
  nlohmann::json id;
  std::optional<RpcRequest> request = ParseRequest(body, &error, &id);
  if (!request) {
    (void)ErrorObject(id, error).dump();
    return 0;
  }
  std::optional<SendParams> send = ParseSendParams(request->params, &error);
  if (!send) return 0;
  Task task;
  task.id = "t";
  task.request_json = send->message.dump();
  task.replies.push_back({"r", "agent", "text", send->text});
  task.events = {{TaskEvent::Kind::kStatus, 0}, {TaskEvent::Kind::kReply, 0}};
  (void)TaskJson(task, send->history_length).dump();
  (void)StreamEventJson(task, task.events[1]).dump();
  return 0;
}
