#include "nats/nats_health.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "httplib.h"
#include "nats/nats_server_process.h"
#include "nlohmann/json.hpp"

namespace latentbus::nats {
namespace {

// The string at `key` of a JSON object, or "".
std::string StringAt(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return "";
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string NodeName(const NatsServerProcess& node) {
  return node.server_name().empty() ? absl::StrCat("127.0.0.1:", node.port()) : node.server_name();
}

}  // namespace

NatsHealth ProbeNatsHealth(int monitor_port) {
  NatsHealth health;
  httplib::Client client("127.0.0.1", monitor_port);
  client.set_connection_timeout(std::chrono::milliseconds(500));
  client.set_read_timeout(std::chrono::seconds(1));
  client.set_write_timeout(std::chrono::seconds(1));
  httplib::Result healthz = client.Get("/healthz");
  if (!healthz) {
    health.problem =
        absl::StrCat("no answer from /healthz (", httplib::to_string(healthz.error()), " error)");
    return health;
  }
  health.healthy = healthz->status == 200;
  if (!health.healthy) {
    const nlohmann::json body = nlohmann::json::parse(healthz->body, nullptr, false);
    const std::string error = StringAt(body, "error");
    health.problem = absl::StrCat("/healthz answered ", healthz->status, ": ",
                                  error.empty() ? healthz->body : error);
  }
  httplib::Result jsz = client.Get("/jsz");
  if (!jsz || jsz->status != 200) {
    if (health.problem.empty()) health.problem = "no answer from /jsz";
    return health;
  }
  const nlohmann::json body = nlohmann::json::parse(jsz->body, nullptr, false);
  if (body.is_object()) {
    const auto disabled = body.find("disabled");
    health.jetstream = !(disabled != body.end() && disabled->is_boolean() && disabled->get<bool>());
    const auto meta = body.find("meta_cluster");
    if (meta != body.end()) health.meta_leader = StringAt(*meta, "leader");
  }
  return health;
}

absl::Status WaitNatsReady(const std::vector<NatsServerProcess*>& nodes, bool clustered,
                           absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::vector<std::string> problems(nodes.size());
  while (true) {
    bool ready = true;
    std::string leader;  // the meta leader the first node that names one names
    for (size_t i = 0; i < nodes.size(); ++i) {
      NatsServerProcess& node = *nodes[i];
      if (!node.Running()) {
        return absl::FailedPreconditionError(
            absl::StrCat(NodeName(node), " is not running; its log ends:\n", node.LogTail()));
      }
      const NatsHealth health = ProbeNatsHealth(node.monitor_port());
      std::string& problem = problems[i];
      problem = health.problem;
      if (problem.empty() && node.options().jetstream && !health.jetstream) {
        problem = "JetStream is not enabled";
      }
      if (problem.empty() && clustered) {
        if (health.meta_leader.empty()) {
          problem = "no JetStream meta leader yet";
        } else if (leader.empty()) {
          leader = health.meta_leader;
        } else if (health.meta_leader != leader) {
          problem =
              absl::StrCat("names ", health.meta_leader, " as meta leader, another node ", leader);
        }
      }
      if (!problem.empty()) ready = false;
    }
    if (ready) return absl::OkStatus();
    if (absl::Now() >= deadline) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  std::string message = absl::StrCat(nodes.size() == 1 ? "nats-server" : "nats cluster",
                                     " not ready within ", absl::FormatDuration(timeout), ":");
  for (size_t i = 0; i < nodes.size(); ++i) {
    absl::StrAppend(&message, "\n  ", NodeName(*nodes[i]),
                    " (http://127.0.0.1:", nodes[i]->monitor_port(),
                    "): ", problems[i].empty() ? "ready" : problems[i]);
  }
  for (NatsServerProcess* node : nodes) {
    absl::StrAppend(&message, "\n--- ", NodeName(*node), " log (tail) ---\n", node->LogTail(1500));
  }
  return absl::DeadlineExceededError(message);
}

}  // namespace latentbus::nats
