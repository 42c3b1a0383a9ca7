#include "a2a/agent_cards.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace latentbus::a2a {

using nlohmann::json;

namespace {

// The bus's message classes, as a caller names them, and what each is for.
constexpr std::pair<const char*, const char*> kClasses[] = {
    {"context", "information for the agent to take into account"},
    {"instruction", "a task for the agent to carry out"},
    {"result", "the outcome of earlier work"},
    {"reasoning", "steps of reasoning (the broker's policy decides whether they go as text)"},
    {"control", "coordination between agents"},
};

json Skills(const std::string& target, const std::string& reader) {
  json skills = json::array();
  for (const auto& [name, what] : kClasses) {
    skills.push_back({{"id", name},
                      {"name", absl::StrCat(name, " message")},
                      {"description",
                       absl::StrCat("Send ", target, " ", what, "; ", reader,
                                    ". Set metadata \"latentbus.messageClass\": \"", name, "\".")},
                      {"tags", json::array({"latentbus", name})},
                      {"inputModes", json::array({"text/plain"})},
                      {"outputModes", json::array({"text/plain"})}});
  }
  return skills;
}

json Card(std::string name, std::string description, std::string url, json skills,
          const CardSettings& settings) {
  json card = {{"name", std::move(name)},
               {"description", std::move(description)},
               {"supportedInterfaces", json::array({{{"url", std::move(url)},
                                                     {"protocolBinding", "JSONRPC"},
                                                     {"protocolVersion", "1.0"}}})},
               {"provider", {{"organization", "latentbus"}, {"url", settings.public_url}}},
               {"version", settings.version},
               {"capabilities", {{"streaming", true}, {"pushNotifications", false}}},
               {"defaultInputModes", json::array({"text/plain"})},
               {"defaultOutputModes", json::array({"text/plain"})},
               {"skills", std::move(skills)}};
  if (settings.bearer_required) {
    card["securitySchemes"] = {
        {"bearer",
         {{"httpAuthSecurityScheme",
           {{"scheme", "Bearer"},
            {"description", "a latentbus broker token; the gateway acts as its principal"}}}}}};
    card["securityRequirements"] =
        json::array({{{"schemes", {{"bearer", {{"list", json::array()}}}}}}});
  }
  return card;
}

}  // namespace

std::string PercentEncode(absl::string_view segment) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(segment.size());
  for (unsigned char c : segment) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string AgentUrl(const CardSettings& settings, absl::string_view agent_id) {
  return absl::StrCat(settings.public_url, "/agents/", PercentEncode(agent_id));
}

std::string TopicUrl(const CardSettings& settings, absl::string_view topic) {
  return absl::StrCat(settings.public_url, "/topics/", PercentEncode(topic));
}

json AgentCard(const v1::AgentInfo& agent, const CardSettings& settings) {
  std::string description;
  std::string reader;
  if (agent.has_model() && !agent.model().model_id().empty()) {
    const v1::ModelSpec& m = agent.model();
    description = absl::StrCat("latentbus agent '", agent.agent_id(), "' hosting ", m.model_id(),
                               " (", m.family(), ", hidden size ", m.hidden_size(), ")");
    reader = absl::StrCat(
        "it reads the message as soft tokens in its model's space when a "
        "bridge carries them, else as text");
  } else {
    description = absl::StrCat("latentbus text agent '", agent.agent_id(), "'");
    reader = "it reads text";
  }
  absl::StrAppend(&description, agent.connected() ? "" : " (absent: messages wait for it)",
                  ". Replies come back as the task's artifacts.");
  json card = Card(agent.agent_id(), std::move(description), AgentUrl(settings, agent.agent_id()),
                   Skills(absl::StrCat("'", agent.agent_id(), "'"), reader), settings);
  return card;
}

json TopicCard(absl::string_view topic, int subscribers, const CardSettings& settings) {
  std::string description =
      absl::StrCat("latentbus topic '", topic, "' (", subscribers,
                   " subscriber(s) now): a message goes to every subscriber, and the task "
                   "collects one artifact per reply until all replied or the deadline passed.");
  return Card(absl::StrCat("topic:", topic), std::move(description), TopicUrl(settings, topic),
              Skills(absl::StrCat("every subscriber of '", topic, "'"),
                     "each reads it as soft tokens or text as its bridge allows"),
              settings);
}

}  // namespace latentbus::a2a
