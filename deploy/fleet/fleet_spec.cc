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
                                 {"listen", "metrics_listen", "config", "bridges",
                                  "drain_timeout_seconds", "log_level", "args"});
      !s.ok()) {
    return s;
  }
  for (absl::Status s :
       {Get(node, w, "listen", &b->listen), Get(node, w, "metrics_listen", &b->metrics_listen),
        Get(node, w, "config", &b->config), Get(node, w, "bridges", &b->bridges),
        GetOptional(node, w, "drain_timeout_seconds", &b->drain_timeout_seconds),
        Get(node, w, "log_level", &b->log_level), GetStrings(node, w, "args", &b->args)}) {
    if (!s.ok()) return s;
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
                                  "stop_timeout_seconds", "broker", "agents"});
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
  if (YAML::Node broker = root["broker"]) {
    if (absl::Status s = ParseBroker(broker, base_dir, &spec.broker); !s.ok()) return s;
  }
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

std::vector<std::string> BrokerArgs(const BrokerSpec& spec, const std::string& port_file) {
  std::vector<std::string> args = {"broker",           "--listen",          spec.listen,
                                   "--metrics-listen", spec.metrics_listen, "--port-file",
                                   port_file};
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

std::string DialAddress(const std::string& listen, int port) {
  std::string host = listen.substr(0, listen.rfind(':'));
  if (host.empty() || host == "0.0.0.0" || host == "[::]" || host == "::") host = "127.0.0.1";
  return absl::StrCat(host, ":", port);
}

}  // namespace latentbus::fleet
