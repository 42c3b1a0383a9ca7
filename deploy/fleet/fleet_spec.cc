#include "deploy/fleet/fleet_spec.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/model_cache/model_cache.h"
#include "yaml-cpp/yaml.h"

namespace latentbus::fleet {
namespace {

namespace fs = std::filesystem;

constexpr int kMaxBrokers = 16;
constexpr int kMaxNatsServers = 5;

absl::Status Bad(absl::string_view key, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("fleet: ", key, ": ", why));
}

absl::Status CheckKeys(const YAML::Node& node, const std::string& where,
                       const std::set<std::string>& known) {
  if (!node.IsMap()) return Bad(where, "expected a mapping");
  for (const auto& item : node) {
    const std::string key = item.first.as<std::string>();
    if (known.count(key) == 0) {
      return Bad(where.empty() ? key : absl::StrCat(where, ".", key),
                 absl::StrCat("unknown key (known: ", absl::StrJoin(known, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

// Reads `key` of `node` into `out` when present; InvalidArgument when it has the wrong
// type (yaml-cpp throws; the caller's try block turns that into the key's name).
template <typename T>
absl::Status Get(const YAML::Node& node, const std::string& where, const char* key, T* out) {
  const YAML::Node value = node[key];
  if (!value) return absl::OkStatus();
  try {
    *out = value.as<T>();
  } catch (const YAML::Exception&) {
    return Bad(absl::StrCat(where, where.empty() ? "" : ".", key), "wrong type");
  }
  return absl::OkStatus();
}

template <typename T>
absl::Status GetOptional(const YAML::Node& node, const std::string& where, const char* key,
                         std::optional<T>* out) {
  if (!node[key]) return absl::OkStatus();
  T value{};
  if (absl::Status s = Get(node, where, key, &value); !s.ok()) return s;
  *out = value;
  return absl::OkStatus();
}

absl::Status GetStrings(const YAML::Node& node, const std::string& where, const char* key,
                        std::vector<std::string>* out) {
  const YAML::Node value = node[key];
  if (!value) return absl::OkStatus();
  if (!value.IsSequence()) return Bad(absl::StrCat(where, ".", key), "expected a list");
  for (const auto& item : value) {
    if (!item.IsScalar()) return Bad(absl::StrCat(where, ".", key), "expected strings");
    out->push_back(item.as<std::string>());
  }
  return absl::OkStatus();
}

std::string ExpandHome(const std::string& path) {
  if (path == "~" || absl::StartsWith(path, "~/")) {
    const char* home = std::getenv("HOME");
    return std::string(home ? home : "") + path.substr(1);
  }
  return path;
}

std::string Resolve(const std::string& path, const std::string& base_dir) {
  const std::string expanded = ExpandHome(path);
  if (expanded.empty() || fs::path(expanded).is_absolute()) return expanded;
  return (fs::path(base_dir) / expanded).lexically_normal().string();
}

// Resolves a path that must exist (a file, or a folder when `folder`).
absl::Status ExistingPath(const std::string& key, const std::string& base_dir, bool folder,
                          std::string* path) {
  if (path->empty()) return absl::OkStatus();
  *path = Resolve(*path, base_dir);
  std::error_code error;
  const bool ok = folder ? fs::is_directory(*path, error) : fs::is_regular_file(*path, error);
  if (!ok) {
    return absl::NotFoundError(
        absl::StrCat("fleet: ", key, ": ", folder ? "folder" : "file", " '", *path, "' not found"));
  }
  return absl::OkStatus();
}

bool ValidName(const std::string& name, bool allow_upper_and_dots) {
  if (name.empty() || name.size() > 63) return false;
  for (char c : name) {
    const bool ok = absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-' ||
                    (allow_upper_and_dots && (absl::ascii_isupper(c) || c == '_' || c == '.'));
    if (!ok) return false;
  }
  return name[0] != '-' && name[0] != '.';
}

// The port of host:port (after ValidListen).
int PortOf(const std::string& address) {
  return std::atoi(address.c_str() + address.rfind(':') + 1);
}

bool ValidListen(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon + 1 == address.size()) return false;
  for (size_t i = colon + 1; i < address.size(); ++i) {
    if (!absl::ascii_isdigit(address[i])) return false;
  }
  return std::atoi(address.c_str() + colon + 1) <= 65535;
}

absl::Status ParseBroker(const YAML::Node& node, const std::string& base_dir, BrokerSpec* b) {
  const std::string w = "broker";
  if (absl::Status s = CheckKeys(node, w,
                                 {"replicas", "listen", "metrics_listen", "config", "bridges",
                                  "drain_timeout_seconds", "log_level", "args"});
      !s.ok()) {
    return s;
  }
  for (absl::Status s :
       {Get(node, w, "replicas", &b->replicas), Get(node, w, "listen", &b->listen),
        Get(node, w, "metrics_listen", &b->metrics_listen), Get(node, w, "config", &b->config),
        Get(node, w, "bridges", &b->bridges),
        GetOptional(node, w, "drain_timeout_seconds", &b->drain_timeout_seconds),
        Get(node, w, "log_level", &b->log_level), GetStrings(node, w, "args", &b->args)}) {
    if (!s.ok()) return s;
  }
  if (b->replicas < 1 || b->replicas > kMaxBrokers) {
    return Bad("broker.replicas", absl::StrCat("must be 1 to ", kMaxBrokers));
  }
  if (!ValidListen(b->listen)) return Bad("broker.listen", "expected host:port");
  if (!b->metrics_listen.empty() && !ValidListen(b->metrics_listen)) {
    return Bad("broker.metrics_listen", "expected host:port or \"\"");
  }
  if (b->drain_timeout_seconds && *b->drain_timeout_seconds < 0) {
    return Bad("broker.drain_timeout_seconds", "must be >= 0");
  }
  if (absl::Status s = ExistingPath("broker.config", base_dir, false, &b->config); !s.ok()) {
    return s;
  }
  return ExistingPath("broker.bridges", base_dir, true, &b->bridges);
}

absl::Status ParseNats(const YAML::Node& node, const std::string& base_dir, NatsSpec* n) {
  const std::string w = "nats";
  if (node.IsNull()) return absl::OkStatus();  // `nats:` alone: every default
  if (absl::Status s = CheckKeys(node, w,
                                 {"servers", "port", "cluster_port", "monitor_port", "store_dir",
                                  "sync_always", "max_payload", "binary"});
      !s.ok()) {
    return s;
  }
  for (absl::Status s :
       {Get(node, w, "servers", &n->servers), Get(node, w, "port", &n->port),
        Get(node, w, "cluster_port", &n->cluster_port),
        Get(node, w, "monitor_port", &n->monitor_port), Get(node, w, "store_dir", &n->store_dir),
        Get(node, w, "sync_always", &n->sync_always), Get(node, w, "max_payload", &n->max_payload),
        Get(node, w, "binary", &n->binary)}) {
    if (!s.ok()) return s;
  }
  if (n->servers < 1 || n->servers > kMaxNatsServers) {
    return Bad("nats.servers", absl::StrCat("must be 1 to ", kMaxNatsServers,
                                            " (JetStream keeps at most 5 copies)"));
  }
  for (const auto& [key, port] : {std::pair<const char*, int>{"nats.port", n->port},
                                  {"nats.cluster_port", n->cluster_port},
                                  {"nats.monitor_port", n->monitor_port}}) {
    if (port < 0 || port > 65535) return Bad(key, "must be 0 (free ones) to 65535");
  }
  if (n->max_payload < (1u << 20) || n->max_payload > (64u << 20)) {
    return Bad("nats.max_payload", "must be 1048576 to 67108864 bytes");
  }
  if (!n->store_dir.empty()) n->store_dir = Resolve(n->store_dir, base_dir);
  if (n->binary.find('/') != std::string::npos || absl::StartsWith(n->binary, "~")) {
    return ExistingPath("nats.binary", base_dir, false, &n->binary);
  }
  return absl::OkStatus();
}

// Fixed ports (a range per key, one port per server or broker) must not overlap, nor pass
// 65535.
absl::Status CheckPorts(const FleetSpec& spec) {
  struct Range {
    std::string key;
    int first;
    int count;
  };
  std::vector<Range> ranges;
  const int brokers = spec.broker.replicas;
  if (PortOf(spec.broker.listen) > 0) {
    ranges.push_back({"broker.listen", PortOf(spec.broker.listen), brokers});
  }
  if (!spec.broker.metrics_listen.empty() && PortOf(spec.broker.metrics_listen) > 0) {
    ranges.push_back({"broker.metrics_listen", PortOf(spec.broker.metrics_listen), brokers});
  }
  if (spec.nats) {
    const NatsSpec& n = *spec.nats;
    if (n.port > 0) ranges.push_back({"nats.port", n.port, n.servers});
    if (n.cluster_port > 0 && n.servers > 1) {
      ranges.push_back({"nats.cluster_port", n.cluster_port, n.servers});
    }
    if (n.monitor_port > 0) ranges.push_back({"nats.monitor_port", n.monitor_port, n.servers});
  }
  auto span = [](const Range& r) {
    return r.count == 1 ? absl::StrCat("port ", r.first)
                        : absl::StrCat("ports ", r.first, "-", r.first + r.count - 1);
  };
  for (size_t i = 0; i < ranges.size(); ++i) {
    const Range& r = ranges[i];
    if (r.first + r.count - 1 > 65535) {
      return Bad(r.key, absl::StrCat(span(r), " pass 65535"));
    }
    for (size_t j = 0; j < i; ++j) {
      const Range& o = ranges[j];
      if (r.first < o.first + o.count && o.first < r.first + r.count) {
        return Bad(r.key, absl::StrCat(span(r), " overlap ", o.key, "'s ", span(o)));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ParseAgent(const YAML::Node& node, const std::string& w, const std::string& base_dir,
                        const std::string& model_dir, AgentSpec* a) {
  if (absl::Status s = CheckKeys(node, w,
                                 {"id", "model", "layer", "encoding", "role", "topics", "threads",
                                  "max_new_tokens", "token_file", "tls_ca", "args"});
      !s.ok()) {
    return s;
  }
  for (absl::Status s :
       {Get(node, w, "id", &a->id), Get(node, w, "model", &a->model),
        GetOptional(node, w, "layer", &a->layer), Get(node, w, "encoding", &a->encoding),
        Get(node, w, "role", &a->role), GetStrings(node, w, "topics", &a->topics),
        GetOptional(node, w, "threads", &a->threads),
        GetOptional(node, w, "max_new_tokens", &a->max_new_tokens),
        Get(node, w, "token_file", &a->token_file), Get(node, w, "tls_ca", &a->tls_ca),
        GetStrings(node, w, "args", &a->args)}) {
    if (!s.ok()) return s;
  }
  if (!ValidName(a->id, /*allow_upper_and_dots=*/true)) {
    return Bad(w + ".id", "required: 1-63 characters of [A-Za-z0-9._-]");
  }
  const std::string where = absl::StrCat(w, " (", a->id, ")");
  if (a->model.empty()) return Bad(where + ".model", "required");
  if (a->layer && *a->layer < 0) return Bad(where + ".layer", "must be >= 0");
  if (a->threads && *a->threads < 1) return Bad(where + ".threads", "must be >= 1");
  if (a->max_new_tokens && *a->max_new_tokens < 1) {
    return Bad(where + ".max_new_tokens", "must be >= 1");
  }
  a->model = Resolve(a->model, model_dir);
  std::error_code error;
  if (!fs::is_regular_file(a->model, error) && !fs::is_directory(a->model, error)) {
    return absl::NotFoundError(absl::StrCat(
        "fleet: ", where, ".model: '", a->model,
        "' not found (fetch the models with scripts/fetch-models.sh, or set model_dir)"));
  }
  if (absl::Status s = ExistingPath(where + ".token_file", base_dir, false, &a->token_file);
      !s.ok()) {
    return s;
  }
  return ExistingPath(where + ".tls_ca", base_dir, false, &a->tls_ca);
}

absl::StatusOr<FleetSpec> Parse(const YAML::Node& root, const std::string& base_dir,
                                const std::string& model_dir_default) {
  if (!root || root.IsNull()) return Bad("(file)", "empty");
  if (absl::Status s = CheckKeys(root, "",
                                 {"name", "model_dir", "ready_timeout_seconds",
                                  "stop_timeout_seconds", "nats", "broker", "agents"});
      !s.ok()) {
    return s;
  }
  FleetSpec spec;
  std::string model_dir = model_dir_default;
  for (absl::Status s : {Get(root, "", "name", &spec.name), Get(root, "", "model_dir", &model_dir),
                         Get(root, "", "ready_timeout_seconds", &spec.ready_timeout_seconds),
                         Get(root, "", "stop_timeout_seconds", &spec.stop_timeout_seconds)}) {
    if (!s.ok()) return s;
  }
  if (!ValidName(spec.name, /*allow_upper_and_dots=*/false)) {
    return Bad("name", "required: 1-63 characters of [a-z0-9-]");
  }
  if (spec.ready_timeout_seconds <= 0) return Bad("ready_timeout_seconds", "must be > 0");
  if (spec.stop_timeout_seconds <= 0) return Bad("stop_timeout_seconds", "must be > 0");
  model_dir = Resolve(model_dir, base_dir);
  if (YAML::Node nats = root["nats"]) {
    spec.nats.emplace();
    if (absl::Status s = ParseNats(nats, base_dir, &*spec.nats); !s.ok()) return s;
  }
  if (YAML::Node broker = root["broker"]) {
    if (absl::Status s = ParseBroker(broker, base_dir, &spec.broker); !s.ok()) return s;
  }
  if (spec.broker.replicas > 1 && !spec.nats) {
    return Bad("broker.replicas",
               "several brokers need a nats: section (they share their queues only through "
               "JetStream)");
  }
  if (absl::Status s = CheckPorts(spec); !s.ok()) return s;
  if (YAML::Node agents = root["agents"]) {
    if (!agents.IsSequence()) return Bad("agents", "expected a list");
    std::set<std::string> ids;
    for (size_t i = 0; i < agents.size(); ++i) {
      AgentSpec agent;
      if (absl::Status s =
              ParseAgent(agents[i], absl::StrCat("agents[", i, "]"), base_dir, model_dir, &agent);
          !s.ok()) {
        return s;
      }
      if (!ids.insert(agent.id).second) {
        return Bad(absl::StrCat("agents[", i, "].id"),
                   absl::StrCat("duplicate id '", agent.id, "'"));
      }
      spec.agents.push_back(std::move(agent));
    }
  }
  return spec;
}

}  // namespace

absl::StatusOr<FleetSpec> ParseFleetYaml(absl::string_view yaml, const std::string& base_dir,
                                         const std::string& model_dir_default) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("fleet: not valid YAML: ", e.what()));
  }
  try {
    return Parse(root, base_dir, model_dir_default);
  } catch (const YAML::Exception& e) {  // e.g. indexing a scalar as a map
    return absl::InvalidArgumentError(absl::StrCat("fleet: ", e.what()));
  }
}

absl::StatusOr<FleetSpec> LoadFleetFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("fleet: cannot read '", path, "'"));
  std::ostringstream text;
  text << in.rdbuf();
  std::error_code error;
  const fs::path absolute = fs::absolute(path, error);
  absl::StatusOr<FleetSpec> spec =
      ParseFleetYaml(text.str(), absolute.parent_path().string(), DefaultModelDir());
  if (!spec.ok()) {
    return absl::Status(spec.status().code(), absl::StrCat(path, ": ", spec.status().message()));
  }
  spec->source = absolute.lexically_normal().string();
  return spec;
}

std::string DefaultModelDir() { return agent::ModelCacheDir(); }

std::string NatsServerName(int index) { return absl::StrCat("nats", index); }

std::string BrokerName(const BrokerSpec& spec, int index) {
  return spec.replicas == 1 ? "broker" : absl::StrCat("broker", index);
}

std::string ShiftPort(const std::string& address, int offset) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return address;
  const int port = std::atoi(address.c_str() + colon + 1);
  if (port == 0) return address;
  return absl::StrCat(address.substr(0, colon + 1), port + offset);
}

int NatsPortsToPick(const NatsSpec& spec) {
  const int per_server =
      (spec.port == 0) + (spec.servers > 1 && spec.cluster_port == 0) + (spec.monitor_port == 0);
  return per_server * spec.servers;
}

std::string NatsStoreRoot(const NatsSpec& spec, const std::string& run_dir) {
  return spec.store_dir.empty() ? run_dir + "/nats" : spec.store_dir;
}

std::vector<nats::NatsServerOptions> NatsNodes(const NatsSpec& spec,
                                               const std::string& cluster_name,
                                               const std::string& store_root,
                                               const std::vector<int>& picked) {
  size_t next = 0;
  auto port = [&](int base, int i) {
    if (base > 0) return base + i;
    return next < picked.size() ? picked[next++] : 0;
  };
  std::vector<nats::NatsServerOptions> nodes(spec.servers);
  for (int i = 0; i < spec.servers; ++i) {
    nats::NatsServerOptions& o = nodes[i];
    if (!spec.binary.empty()) o.binary = spec.binary;
    o.max_payload = spec.max_payload;
    o.server_name = NatsServerName(i);
    o.jetstream = true;
    o.sync_always = spec.sync_always;
    o.store_dir = absl::StrCat(store_root, "/", o.server_name);
    o.port = port(spec.port, i);
    if (spec.servers > 1) {
      o.cluster.emplace();
      o.cluster->name = cluster_name;
      o.cluster->port = port(spec.cluster_port, i);
    }
    o.monitor_port = port(spec.monitor_port, i);
  }
  for (nats::NatsServerOptions& o : nodes) {
    if (!o.cluster) continue;
    for (const nats::NatsServerOptions& peer : nodes) {
      o.cluster->routes.push_back(absl::StrCat("nats://127.0.0.1:", peer.cluster->port));
    }
  }
  return nodes;
}

std::string NatsUrls(const std::vector<nats::NatsServerOptions>& nodes) {
  std::vector<std::string> urls;
  for (const nats::NatsServerOptions& o : nodes) {
    urls.push_back(absl::StrCat("nats://127.0.0.1:", o.port));
  }
  return absl::StrJoin(urls, ",");
}

std::vector<std::string> BrokerArgs(const FleetSpec& fleet, int index, const std::string& port_file,
                                    const std::string& nats_urls) {
  const BrokerSpec& spec = fleet.broker;
  std::vector<std::string> args = {"broker",
                                   "--listen",
                                   ShiftPort(spec.listen, index),
                                   "--metrics-listen",
                                   ShiftPort(spec.metrics_listen, index),
                                   "--port-file",
                                   port_file};
  if (fleet.nats) {
    args.insert(args.end(),
                {"--cluster", nats_urls, "--cluster-replicas", std::to_string(fleet.nats->servers),
                 "--broker-name", BrokerName(spec, index)});
  }
  if (!spec.config.empty()) args.insert(args.end(), {"--config", spec.config});
  if (!spec.bridges.empty()) args.insert(args.end(), {"--bridges", spec.bridges});
  if (spec.drain_timeout_seconds) {
    std::ostringstream seconds;
    seconds << *spec.drain_timeout_seconds;
    args.insert(args.end(), {"--drain-timeout", seconds.str()});
  }
  if (!spec.log_level.empty()) args.insert(args.end(), {"--log-level", spec.log_level});
  args.insert(args.end(), spec.args.begin(), spec.args.end());
  return args;
}

std::vector<std::string> AgentArgs(const AgentSpec& spec, const std::string& broker_address,
                                   const std::string& ready_file) {
  std::vector<std::string> args = {"agent", "--broker", broker_address, "--id",
                                   spec.id, "--model",  spec.model};
  if (spec.layer) args.insert(args.end(), {"--layer", std::to_string(*spec.layer)});
  if (!spec.encoding.empty()) args.insert(args.end(), {"--encoding", spec.encoding});
  if (!spec.role.empty()) args.insert(args.end(), {"--role", spec.role});
  for (const std::string& topic : spec.topics) args.insert(args.end(), {"--topic", topic});
  if (spec.threads) args.insert(args.end(), {"--threads", std::to_string(*spec.threads)});
  if (spec.max_new_tokens) {
    args.insert(args.end(), {"--max-new-tokens", std::to_string(*spec.max_new_tokens)});
  }
  if (!spec.token_file.empty()) args.insert(args.end(), {"--token-file", spec.token_file});
  if (!spec.tls_ca.empty()) args.insert(args.end(), {"--tls-ca", spec.tls_ca});
  args.insert(args.end(), {"--ready-file", ready_file});
  args.insert(args.end(), spec.args.begin(), spec.args.end());
  return args;
}

std::string AgentBrokers(const std::vector<std::string>& addresses, size_t agent_index) {
  if (addresses.empty()) return "";
  std::vector<std::string> rotated;
  for (size_t i = 0; i < addresses.size(); ++i) {
    rotated.push_back(addresses[(agent_index + i) % addresses.size()]);
  }
  return absl::StrJoin(rotated, ",");
}

std::string DialAddress(const std::string& listen, int port) {
  std::string host = listen.substr(0, listen.rfind(':'));
  if (host.empty() || host == "0.0.0.0" || host == "[::]" || host == "::") host = "127.0.0.1";
  return absl::StrCat(host, ":", port);
}

}  // namespace latentbus::fleet
