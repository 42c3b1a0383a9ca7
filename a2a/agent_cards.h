// A2A AgentCards (protocol 1.0, JSON form) for what the bus holds: one card per registered
// agent and one per topic (a topic answers as one A2A agent that fans each message out to
// its subscribers and collects their replies).
//
// Each card names one interface, the JSON-RPC binding at the gateway URL of its target
// (`<public url>/agents/<id>` or `<public url>/topics/<topic>`, path segments
// percent-encoded), streaming as a capability, and one skill per message class the bus
// carries (the class a caller picks with the `latentbus.messageClass` metadata key). When
// the broker requires tokens the card declares an HTTP bearer scheme: callers present the
// broker's bearer tokens, and the gateway acts on the bus as their principal.
//
// Thread safety: free functions without shared state.
#ifndef LATENTBUS_A2A_AGENT_CARDS_H_
#define LATENTBUS_A2A_AGENT_CARDS_H_

#include <string>

#include "absl/strings/string_view.h"
#include "latentbus/v1/broker.pb.h"
#include "nlohmann/json.hpp"

namespace latentbus::a2a {

struct CardSettings {
  std::string public_url;  // how callers reach the gateway, e.g. "http://gw.example:8080"
  bool bearer_required = false;
  std::string version;  // latentbus version
};

// "a b/c" -> "a%20b%2Fc": everything but unreserved characters (RFC 3986) escaped.
std::string PercentEncode(absl::string_view segment);

std::string AgentUrl(const CardSettings& settings, absl::string_view agent_id);
std::string TopicUrl(const CardSettings& settings, absl::string_view topic);

nlohmann::json AgentCard(const v1::AgentInfo& agent, const CardSettings& settings);
nlohmann::json TopicCard(absl::string_view topic, int subscribers, const CardSettings& settings);

}  // namespace latentbus::a2a

#endif  // LATENTBUS_A2A_AGENT_CARDS_H_
