#include "a2a/task_json.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"

namespace latentbus::a2a {

using nlohmann::json;

namespace {

// A metadata value from the message first, then from the request.
const json* MetaValue(const json& message, const json& params, const char* key) {
  for (const json* holder : {&message, &params}) {
    auto meta = holder->find("metadata");
    if (meta == holder->end() || !meta->is_object()) continue;
    if (auto it = meta->find(key); it != meta->end()) return &*it;
  }
  return nullptr;
}

bool Fail(RpcError* error, int code, std::string message) {
  *error = {code, std::move(message),
            code == kContentTypeNotSupported ? "CONTENT_TYPE" : "INVALID_PARAMS"};
  return false;
}

json TextPart(const std::string& text) { return {{"text", text}}; }

json AgentMessage(const Task& task, const std::string& message_id, const std::string& text,
                  json metadata) {
  json m = {{"messageId", message_id},
            {"contextId", task.context_id},
            {"taskId", task.id},
            {"role", "ROLE_AGENT"},
            {"parts", json::array({TextPart(text)})}};
  if (!metadata.empty()) m["metadata"] = std::move(metadata);
  return m;
}

json ReplyMetadata(const Reply& reply) {
  return {{"latentbus.sender", reply.sender}, {"latentbus.form", reply.form}};
}

json ReplyMessage(const Task& task, const Reply& reply) {
  return AgentMessage(task, reply.message_id, reply.text, ReplyMetadata(reply));
}

json StatusJson(const Task& task) {
  json status = {{"state", TaskStateName(task.state)}, {"timestamp", Rfc3339(task.updated_at)}};
  if (task.state == TaskState::kCompleted && !task.to_topic && !task.replies.empty()) {
    status["message"] = ReplyMessage(task, task.replies.back());
  } else if (!task.status_text.empty()) {
    status["message"] = AgentMessage(task, absl::StrCat(task.id, "-status"), task.status_text, {});
  }
  return status;
}

json ArtifactJson(const Reply& reply, size_t index) {
  return {{"artifactId", absl::StrCat("reply-", index + 1)},
          {"name", absl::StrCat("reply from ", reply.sender)},
          {"parts", json::array({TextPart(reply.text)})},
          {"metadata", ReplyMetadata(reply)}};
}

}  // namespace

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

std::optional<SendParams> ParseSendParams(const json& params, RpcError* error) {
  SendParams out;
  auto message = params.find("message");
  if (message == params.end() || !message->is_object()) {
    Fail(error, kInvalidParams, "params.message is required");
    return std::nullopt;
  }
  const json& m = *message;
  if (auto role = m.find("role");
      role != m.end() && *role != "ROLE_USER" && *role != "ROLE_UNSPECIFIED") {
    Fail(error, kInvalidParams, "the message's role must be ROLE_USER");
    return std::nullopt;
  }
  if (auto id = m.find("messageId"); id != m.end() && id->is_string()) out.message_id = *id;
  if (auto c = m.find("contextId"); c != m.end() && c->is_string()) out.context_id = *c;
  if (auto t = m.find("taskId"); t != m.end() && t->is_string() && !t->get<std::string>().empty()) {
    Fail(error, kInvalidParams,
         "a latentbus task is one message and its replies: send a new message without taskId "
         "(contextId groups a conversation)");
    return std::nullopt;
  }
  std::vector<std::string> texts;
  bool other_parts = false;
  if (auto parts = m.find("parts"); parts != m.end() && parts->is_array()) {
    for (const json& part : *parts) {
      if (!part.is_object()) continue;
      if (auto text = part.find("text"); text != part.end() && text->is_string()) {
        texts.push_back(*text);
      } else {
        other_parts = true;
      }
    }
  }
  if (texts.empty()) {
    Fail(error, other_parts ? kContentTypeNotSupported : kInvalidParams,
         other_parts ? "latentbus agents read text: send at least one text part"
                     : "the message has no parts");
    return std::nullopt;
  }
  out.text = absl::StrJoin(texts, "\n");
  if (const json* c = MetaValue(m, params, kMetaMessageClass)) {
    if (!c->is_string()) {
      Fail(error, kInvalidParams, absl::StrCat(kMetaMessageClass, " must be a string"));
      return std::nullopt;
    }
    out.message_class = *c;
  }
  if (const json* t = MetaValue(m, params, kMetaTimeout)) {
    const double seconds = t->is_number() ? t->get<double>() : -1;
    if (!std::isfinite(seconds) || seconds <= 0) {
      Fail(error, kInvalidParams, absl::StrCat(kMetaTimeout, " must be a number of seconds > 0"));
      return std::nullopt;
    }
    out.timeout_seconds = seconds;
  }
  if (const json* i = MetaValue(m, params, kMetaInstruction)) {
    if (!i->is_string()) {
      Fail(error, kInvalidParams, absl::StrCat(kMetaInstruction, " must be a string"));
      return std::nullopt;
    }
    out.instruction = *i;
  }
  if (auto config = params.find("configuration"); config != params.end() && config->is_object()) {
    if (auto r = config->find("returnImmediately"); r != config->end() && r->is_boolean()) {
      out.return_immediately = *r;
    }
    if (auto h = config->find("historyLength"); h != config->end() && h->is_number_integer()) {
      out.history_length = h->get<int>();
    }
  }
  out.message = m;
  return out;
}

json TaskJson(const Task& task, std::optional<int> history_length) {
  json history = json::array();
  json request = json::parse(task.request_json, nullptr, false);
  if (!request.is_discarded()) {
    request["taskId"] = task.id;
    request["contextId"] = task.context_id;
    history.push_back(std::move(request));
  }
  json artifacts = json::array();
  for (size_t i = 0; i < task.replies.size(); ++i) {
    history.push_back(ReplyMessage(task, task.replies[i]));
    artifacts.push_back(ArtifactJson(task.replies[i], i));
  }
  if (history_length && *history_length >= 0 &&
      history.size() > static_cast<size_t>(*history_length)) {
    history.erase(history.begin(), history.end() - *history_length);
  }
  json out = {{"id", task.id},
              {"contextId", task.context_id},
              {"status", StatusJson(task)},
              {"history", std::move(history)},
              {"metadata",
               {{"latentbus.target", task.target},
                {"latentbus.targetKind", task.to_topic ? "topic" : "agent"}}}};
  if (!artifacts.empty()) out["artifacts"] = std::move(artifacts);
  return out;
}

json StreamEventJson(const Task& task, const TaskEvent& event) {
  if (event.kind == TaskEvent::Kind::kReply && event.reply_index < task.replies.size()) {
    return {{"artifactUpdate",
             {{"taskId", task.id},
              {"contextId", task.context_id},
              {"artifact", ArtifactJson(task.replies[event.reply_index], event.reply_index)},
              {"lastChunk", true}}}};
  }
  return {{"statusUpdate",
           {{"taskId", task.id}, {"contextId", task.context_id}, {"status", StatusJson(task)}}}};
}

}  // namespace latentbus::a2a
