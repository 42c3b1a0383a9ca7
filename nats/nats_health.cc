#include "nats/nats_health.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

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

// The streams of a /jsz?streams=true answer (account_details[].stream_detail[]).
std::vector<NatsStream> StreamsIn(const nlohmann::json& jsz) {
  std::vector<NatsStream> streams;
  const auto accounts = jsz.find("account_details");
  if (accounts == jsz.end() || !accounts->is_array()) return streams;
  for (const nlohmann::json& account : *accounts) {
    const auto details = account.find("stream_detail");
    if (details == account.end() || !details->is_array()) continue;
    for (const nlohmann::json& detail : *details) {
      NatsStream stream;
      stream.name = StringAt(detail, "name");
      const auto cluster = detail.find("cluster");
      if (cluster != detail.end() && cluster->is_object()) {
        stream.leader = StringAt(*cluster, "leader");
        const auto replicas = cluster->find("replicas");
        if (replicas != cluster->end() && replicas->is_array()) {
          for (const nlohmann::json& r : *replicas) {
            stream.replicas.push_back({StringAt(r, "name"), r.value("current", false),
                                       r.value("offline", false), r.value("lag", uint64_t{0})});
          }
        }
      }
      const auto state = detail.find("state");
      if (state != detail.end() && state->is_object()) {
        stream.messages = state->value("messages", uint64_t{0});
      }
      streams.push_back(std::move(stream));
    }
  }
  return streams;
}

std::string NodeName(const NatsServerProcess& node) {
  return node.server_name().empty() ? absl::StrCat("127.0.0.1:", node.port()) : node.server_name();
}

}  // namespace

NatsHealth ProbeNatsHealth(int monitor_port, bool streams) {
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
  httplib::Result jsz = client.Get(streams ? "/jsz?streams=true" : "/jsz");
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
    if (streams) health.streams = StreamsIn(body);
  }
  return health;
}

std::vector<std::string> ReadinessProblems(const std::vector<NatsHealth>& probes, bool jetstream,
                                           bool clustered) {
  std::vector<std::string> problems(probes.size());
  std::string leader;  // the meta leader the first node that names one names
  for (size_t i = 0; i < probes.size(); ++i) {
    const NatsHealth& health = probes[i];
    std::string& problem = problems[i];
    problem = health.problem;
    if (problem.empty() && jetstream && !health.jetstream) problem = "JetStream is not enabled";
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
  }
  return problems;
}

std::vector<NatsStream> StreamsAsLeadersSee(const std::vector<NatsHealth>& probes) {
  std::map<std::string, NatsStream> chosen;
  std::set<std::string> from_leader;
  for (const NatsHealth& probe : probes) {
    for (const NatsStream& stream : probe.streams) {
      if (from_leader.count(stream.name) > 0) continue;
      const bool leader_view =
          !stream.leader.empty() &&
          std::none_of(stream.replicas.begin(), stream.replicas.end(),
                       [&](const NatsStreamReplica& r) { return r.name == stream.leader; });
      if (leader_view) from_leader.insert(stream.name);
      if (leader_view || chosen.count(stream.name) == 0) chosen[stream.name] = stream;
    }
  }
  std::vector<NatsStream> out;
  for (auto& [name, stream] : chosen) out.push_back(std::move(stream));
  return out;
}

absl::Status WaitNatsReady(const std::vector<NatsServerProcess*>& nodes, bool clustered,
                           absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  const bool jetstream = std::any_of(nodes.begin(), nodes.end(), [](NatsServerProcess* node) {
    return node->options().jetstream;
  });
  std::vector<std::string> problems(nodes.size());
  while (true) {
    std::vector<NatsHealth> probes;
    for (NatsServerProcess* node : nodes) {
      if (!node->Running()) {
        return absl::FailedPreconditionError(
            absl::StrCat(NodeName(*node), " is not running; its log ends:\n", node->LogTail()));
      }
      probes.push_back(ProbeNatsHealth(node->monitor_port()));
    }
    problems = ReadinessProblems(probes, jetstream, clustered);
    if (std::all_of(problems.begin(), problems.end(),
                    [](const std::string& p) { return p.empty(); })) {
      return absl::OkStatus();
    }
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
