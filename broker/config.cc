#include "broker/config.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "codec/kernel_choice.h"
#include "yaml-cpp/yaml.h"

namespace latentbus::broker {
namespace {

absl::Status Bad(absl::string_view key, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("config: ", key, ": ", why));
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Rejects keys of `node` not in `known`.
absl::Status CheckKeys(const YAML::Node& node, absl::string_view where,
                       const std::set<std::string>& known) {
  if (!node.IsMap()) return Bad(where, "expected a mapping");
  for (const auto& item : node) {
    std::string key = item.first.as<std::string>();
    if (known.count(key) == 0) {
      return Bad(absl::StrCat(where, ".", key),
                 absl::StrCat("unknown key (known: ", absl::StrJoin(known, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

template <typename T>
void Get(const YAML::Node& node, const char* key, T* out) {
  if (node[key]) *out = node[key].as<T>();
}

std::vector<std::string> Strings(const YAML::Node& node) {
  std::vector<std::string> out;
  if (!node) return out;
  if (node.IsScalar()) {
    out.push_back(node.as<std::string>());
    return out;
  }
  for (const auto& item : node) out.push_back(item.as<std::string>());
  return out;
}

absl::Status ParseInto(const YAML::Node& root, BrokerConfig* c) {
  if (root.IsNull()) return absl::OkStatus();
  if (auto s = CheckKeys(root, "root",
                         {"listen", "metrics_listen", "metrics_auth", "reflection", "health_listen",
                          "log_level", "drain_timeout_seconds", "tls", "keepalive", "translation",
                          "limits", "policy", "tokens", "bridges", "cluster"});
      !s.ok()) {
    return s;
  }
  Get(root, "listen", &c->listen_address);
  Get(root, "metrics_listen", &c->metrics_address);
  Get(root, "metrics_auth", &c->metrics_auth);
  Get(root, "reflection", &c->reflection);
  Get(root, "health_listen", &c->health_address);
  Get(root, "log_level", &c->log_level);
  Get(root, "drain_timeout_seconds", &c->drain_timeout_seconds);
  Get(root, "bridges", &c->bridge_dir);
  if (YAML::Node tls = root["tls"]) {
    if (auto s = CheckKeys(tls, "tls", {"cert", "key", "client_ca"}); !s.ok()) return s;
    Get(tls, "cert", &c->tls.cert_file);
    Get(tls, "key", &c->tls.key_file);
    Get(tls, "client_ca", &c->tls.client_ca_file);
  }
  if (YAML::Node cl = root["cluster"]) {
    if (auto s = CheckKeys(
            cl, "cluster",
            {"servers", "durability", "replicas", "stream", "ack_wait_seconds", "broker_name"});
        !s.ok()) {
      return s;
    }
    Get(cl, "servers", &c->cluster.servers);
    Get(cl, "durability", &c->cluster.durability);
    Get(cl, "replicas", &c->cluster.replicas);
    Get(cl, "stream", &c->cluster.stream);
    Get(cl, "ack_wait_seconds", &c->cluster.ack_wait_seconds);
    Get(cl, "broker_name", &c->cluster.broker_name);
  }
  if (YAML::Node ka = root["keepalive"]) {
    if (auto s = CheckKeys(ka, "keepalive", {"time_ms", "timeout_ms"}); !s.ok()) return s;
    Get(ka, "time_ms", &c->keepalive_time_ms);
    Get(ka, "timeout_ms", &c->keepalive_timeout_ms);
  }
  if (YAML::Node tr = root["translation"]) {
    if (auto s = CheckKeys(tr, "translation",
                           {"threads", "max_batch", "max_pending", "max_pending_bytes",
                            "compute_threads", "kernels", "device", "inline_max_tokens"});
        !s.ok()) {
      return s;
    }
    Get(tr, "threads", &c->translation.threads);
    Get(tr, "max_batch", &c->translation.max_batch);
    Get(tr, "max_pending", &c->translation.max_pending);
    Get(tr, "max_pending_bytes", &c->translation.max_pending_bytes);
    Get(tr, "compute_threads", &c->translation.compute_threads);
    Get(tr, "kernels", &c->translation.kernels);
    Get(tr, "device", &c->translation.device);
    Get(tr, "inline_max_tokens", &c->translation.inline_max_tokens);
  }
  if (YAML::Node lim = root["limits"]) {
    if (auto s = CheckKeys(lim, "limits",
                           {"max_message_bytes", "max_queue_depth", "max_topics_per_agent",
                            "rate_per_second", "rate_burst", "delivery_credits", "send_credits",
                            "dedup_window", "max_deadline_seconds", "max_queue_bytes",
                            "max_total_queue_bytes", "absent_retention_seconds"});
        !s.ok()) {
      return s;
    }
    Get(lim, "max_message_bytes", &c->limits.max_message_bytes);
    Get(lim, "max_queue_depth", &c->limits.max_queue_depth);
    Get(lim, "max_topics_per_agent", &c->limits.max_topics_per_agent);
    Get(lim, "rate_per_second", &c->limits.rate_per_second);
    Get(lim, "rate_burst", &c->limits.rate_burst);
    Get(lim, "delivery_credits", &c->limits.delivery_credits);
    Get(lim, "send_credits", &c->limits.send_credits);
    Get(lim, "dedup_window", &c->limits.dedup_window);
    Get(lim, "max_deadline_seconds", &c->limits.max_deadline_seconds);
    Get(lim, "max_queue_bytes", &c->limits.max_queue_bytes);
    Get(lim, "max_total_queue_bytes", &c->limits.max_total_queue_bytes);
    Get(lim, "absent_retention_seconds", &c->limits.absent_retention_seconds);
  }
  if (YAML::Node pol = root["policy"]) {
    if (auto s = CheckKeys(pol, "policy", {"min_fidelity", "metric", "rules"}); !s.ok()) return s;
    Get(pol, "min_fidelity", &c->policy.min_fidelity);
    Get(pol, "metric", &c->policy.metric);
    if (c->policy.metric.empty()) return Bad("policy.metric", "must be auto or a fidelity figure");
    if (YAML::Node rules = pol["rules"]) {
      if (!rules.IsSequence()) return Bad("policy.rules", "expected a list");
      c->policy.rules.clear();
      for (const auto& r : rules) {
        if (auto s = CheckKeys(r, "policy.rules[]",
                               {"class", "src", "dst", "form", "min_fidelity", "metric"});
            !s.ok()) {
          return s;
        }
        PolicyRule rule;
        Get(r, "class", &rule.message_class);
        Get(r, "src", &rule.src_model);
        Get(r, "dst", &rule.dst_model);
        Get(r, "form", &rule.form);
        Get(r, "min_fidelity", &rule.min_fidelity);
        Get(r, "metric", &rule.metric);
        c->policy.rules.push_back(rule);
      }
    }
  }
  if (YAML::Node tokens = root["tokens"]) {
    if (!tokens.IsSequence()) return Bad("tokens", "expected a list");
    c->tokens.clear();
    for (const auto& t : tokens) {
      if (auto s = CheckKeys(t, "tokens[]",
                             {"name", "token", "token_file", "agents", "publish", "subscribe",
                              "send_to", "admin", "metrics"});
          !s.ok()) {
        return s;
      }
      TokenConfig token;
      Get(t, "name", &token.name);
      Get(t, "token", &token.token);
      if (t["token_file"]) {
        absl::StatusOr<std::string> text = ReadFile(t["token_file"].as<std::string>());
        if (!text.ok()) return Bad("tokens[].token_file", text.status().message());
        token.token = std::string(absl::StripAsciiWhitespace(*text));
      }
      token.agents = Strings(t["agents"]);
      token.publish = Strings(t["publish"]);
      if (t["send_to"]) token.send_to = Strings(t["send_to"]);
      token.subscribe = Strings(t["subscribe"]);
      Get(t, "admin", &token.admin);
      Get(t, "metrics", &token.metrics);
      c->tokens.push_back(token);
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<BrokerConfig> ParseConfigYaml(absl::string_view yaml, BrokerConfig base) {
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    if (absl::Status s = ParseInto(root, &base); !s.ok()) return s;
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("config: ", e.what()));
  }
  if (absl::Status s = ValidateConfig(base); !s.ok()) return s;
  return base;
}

absl::StatusOr<BrokerConfig> LoadConfigFile(const std::string& path, BrokerConfig base) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  return ParseConfigYaml(*text, std::move(base));
}

const std::vector<std::string>& TranslationKernelNames() {
  static const std::vector<std::string>* const names = [] {
    auto* v = new std::vector<std::string>{"auto", "blas", "int8"};
    for (const char* variant : codec::kKernelVariantNames) v->push_back(variant);
    return v;
  }();
  return *names;
}

absl::Status ValidateConfig(const BrokerConfig& c) {
  if (c.listen_address.empty()) return Bad("listen", "empty");
  if (c.metrics_auth && c.tokens.empty()) {
    return Bad("metrics_auth", "needs tokens (an admin or metrics token to present)");
  }
  static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error", "off"};
  if (kLevels.count(c.log_level) == 0) {
    return Bad("log_level", "must be one of trace, debug, info, warn, error, off");
  }
  if (c.limits.max_message_bytes < 1024 || c.limits.max_message_bytes > (1u << 30)) {
    return Bad("limits.max_message_bytes", "must be in [1 KiB, 1 GiB]");
  }
  if (c.limits.max_queue_depth == 0) return Bad("limits.max_queue_depth", "must be >= 1");
  if (c.limits.max_queue_bytes < c.limits.max_message_bytes + 512) {
    return Bad("limits.max_queue_bytes",
               absl::StrCat("is ", c.limits.max_queue_bytes, ": it must hold one message (>= ",
                            "max_message_bytes + 512 = ", c.limits.max_message_bytes + 512,
                            "); raise it too (--max-queue-bytes, or limits.max_queue_bytes in "
                            "the config file)"));
  }
  if (c.limits.max_total_queue_bytes < c.limits.max_queue_bytes) {
    return Bad(
        "limits.max_total_queue_bytes",
        absl::StrCat("is ", c.limits.max_total_queue_bytes, ": it must be >= max_queue_bytes (",
                     c.limits.max_queue_bytes, "; --max-total-queue-bytes)"));
  }
  if (c.limits.absent_retention_seconds < 1) {
    return Bad("limits.absent_retention_seconds", "must be >= 1");
  }
  if (c.limits.delivery_credits == 0) return Bad("limits.delivery_credits", "must be >= 1");
  if (c.limits.send_credits == 0) return Bad("limits.send_credits", "must be >= 1");
  if (c.limits.max_deadline_seconds < 1 || c.limits.max_deadline_seconds > 31536000) {
    return Bad("limits.max_deadline_seconds", "must be in [1, 31536000] (one year)");
  }
  if (c.limits.rate_per_second < 0 || c.limits.rate_burst < 0) {
    return Bad("limits.rate_*", "must be >= 0");
  }
  if (c.limits.rate_per_second > 0 && c.limits.rate_burst < 1) {
    return Bad("limits.rate_burst", "must be >= 1 when a rate is set");
  }
  if (c.cluster.durability != "always" && c.cluster.durability != "fast") {
    return Bad("cluster.durability", "must be always or fast");
  }
  if (c.cluster.ack_wait_seconds < 1 || c.cluster.ack_wait_seconds > 3600) {
    return Bad("cluster.ack_wait_seconds", "must be in [1, 3600]");
  }
  if (c.cluster.replicas < 1 || c.cluster.replicas > 5) {
    return Bad("cluster.replicas", "must be in [1, 5]");
  }
  if (c.cluster.stream.empty() || c.cluster.stream.size() > 64 ||
      c.cluster.stream.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                         "0123456789_-") != std::string::npos) {
    return Bad("cluster.stream", "must be 1-64 letters, digits, '_' or '-'");
  }
  for (absl::string_view url : absl::StrSplit(c.cluster.servers, ',', absl::SkipWhitespace())) {
    url = absl::StripAsciiWhitespace(url);
    if (!absl::StartsWith(url, "nats://") && !absl::StartsWith(url, "tls://")) {
      return Bad("cluster.servers", absl::StrCat("\"", url, "\" is not a nats:// URL"));
    }
  }
  if (c.translation.threads < 1 || c.translation.threads > 256) {
    return Bad("translation.threads", "must be in [1, 256]");
  }
  if (c.translation.max_batch == 0) return Bad("translation.max_batch", "must be >= 1");
  if (c.translation.compute_threads < 0 || c.translation.compute_threads > 256) {
    return Bad("translation.compute_threads", "must be in [0, 256]");
  }
  {
    const std::vector<std::string>& kernels = TranslationKernelNames();
    if (std::find(kernels.begin(), kernels.end(), c.translation.kernels) == kernels.end()) {
      return Bad("translation.kernels",
                 absl::StrCat("must be one of ", absl::StrJoin(kernels, ", ")));
    }
  }
  {
    const std::string& d = c.translation.device;
    uint32_t index = 0;
    const bool cuda_n = d.rfind("cuda:", 0) == 0 && d.size() > 5 &&
                        d.find_first_not_of("0123456789", 5) == std::string::npos &&
                        absl::SimpleAtoi(d.substr(5), &index);
    if (d != "cpu" && d != "cuda" && !cuda_n) {
      return Bad("translation.device",
                 absl::StrCat("must be cpu, cuda or cuda:N, got \"", d, "\""));
    }
    if (d != "cpu" && c.translation.kernels != "auto" && c.translation.kernels != "blas") {
      return Bad("translation.kernels", absl::StrCat("\"", c.translation.kernels,
                                                     "\" runs on the CPU; with translation.device ",
                                                     d, " use auto or blas"));
    }
  }
  if (c.translation.inline_max_tokens > (1u << 20)) {
    return Bad("translation.inline_max_tokens", "must be in [0, 1048576] (0: never inline)");
  }
  if (c.drain_timeout_seconds < 0) return Bad("drain_timeout_seconds", "must be >= 0");
  if (c.tls.cert_file.empty() != c.tls.key_file.empty()) {
    return Bad("tls", "cert and key must be given together");
  }
  if (!c.tls.client_ca_file.empty() && !c.tls.enabled()) {
    return Bad("tls.client_ca", "needs tls.cert and tls.key");
  }
  static const std::set<std::string> kClasses = {"*",           "context", "reasoning",
                                                 "instruction", "result",  "control"};
  for (const PolicyRule& rule : c.policy.rules) {
    if (kClasses.count(rule.message_class) == 0) {
      return Bad("policy.rules[].class", absl::StrCat("unknown class '", rule.message_class, "'"));
    }
    if (rule.form != "text" && rule.form != "latent") {
      return Bad("policy.rules[].form", "must be 'text' or 'latent'");
    }
  }
  std::set<std::string> names;
  std::set<std::string> secrets;
  for (const TokenConfig& t : c.tokens) {
    if (t.name.empty()) return Bad("tokens[].name", "empty");
    if (t.token.size() < 8) return Bad(absl::StrCat("tokens[", t.name, "].token"), "< 8 chars");
    if (!names.insert(t.name).second) return Bad("tokens[].name", "duplicate " + t.name);
    if (!secrets.insert(t.token).second) return Bad("tokens[].token", "duplicate token");
  }
  return absl::OkStatus();
}

double DefaultThreshold(const std::string& metric) { return metric == "ask_agreement" ? 0.6 : 0.9; }

}  // namespace latentbus::broker
