#include "broker/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_replace.h"

namespace latentbus::broker {
namespace {

TEST(ConfigTest, DefaultsAreValid) {
  BrokerConfig c;
  EXPECT_TRUE(ValidateConfig(c).ok());
  EXPECT_EQ(c.listen_address, "127.0.0.1:7070");
  ASSERT_EQ(c.policy.rules.size(), 1u);
  EXPECT_EQ(c.policy.rules[0].message_class, "reasoning");
  EXPECT_EQ(c.policy.rules[0].form, "text");
  EXPECT_EQ(c.translation.compute_threads, 1);
  EXPECT_EQ(c.translation.kernels, "auto");
  EXPECT_EQ(c.translation.device, "cpu");
  EXPECT_EQ(c.translation.inline_max_tokens, 128u);
}

TEST(ConfigTest, ParsesEverySection) {
  absl::StatusOr<BrokerConfig> c = ParseConfigYaml(R"(
listen: 0.0.0.0:9000
metrics_listen: ""
health_listen: 0.0.0.0:9001
log_level: debug
drain_timeout_seconds: 3.5
keepalive: {time_ms: 1000, timeout_ms: 500}
translation: {threads: 4, max_batch: 8, max_pending: 100, max_pending_bytes: 5000000,
              compute_threads: 3, kernels: blas, inline_max_tokens: 0}
limits:
  max_message_bytes: 65536
  max_queue_depth: 7
  max_topics_per_agent: 3
  rate_per_second: 5
  rate_burst: 10
  delivery_credits: 2
  send_credits: 9
  dedup_window: 11
  max_deadline_seconds: 60
policy:
  min_fidelity: 0.8
  metric: ask_agreement
  rules:
    - {class: context, src: "smol*", dst: "gemma*", form: latent, min_fidelity: 0.7, metric: cosine}
    - {class: "*", form: text}
tokens:
  - {name: a, token: aaaaaaaaaa, agents: ["a-*"], publish: t.*, subscribe: ["t.*"], admin: true,
     send_to: ["b-*"]}
  - {name: b, token: bbbbbbbbbb, agents: ["b-*"]}
)");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->listen_address, "0.0.0.0:9000");
  EXPECT_EQ(c->metrics_address, "");
  EXPECT_EQ(c->health_address, "0.0.0.0:9001");
  EXPECT_DOUBLE_EQ(c->drain_timeout_seconds, 3.5);
  EXPECT_EQ(c->keepalive_time_ms, 1000);
  EXPECT_EQ(c->translation.threads, 4);
  EXPECT_EQ(c->translation.compute_threads, 3);
  EXPECT_EQ(c->translation.max_pending_bytes, 5000000u);
  EXPECT_EQ(c->translation.kernels, "blas");
  EXPECT_EQ(c->translation.inline_max_tokens, 0u);
  EXPECT_EQ(c->limits.max_message_bytes, 65536u);
  EXPECT_EQ(c->limits.max_queue_depth, 7u);
  EXPECT_EQ(c->limits.dedup_window, 11u);
  EXPECT_EQ(c->limits.max_deadline_seconds, 60u);
  EXPECT_DOUBLE_EQ(c->policy.min_fidelity, 0.8);
  ASSERT_EQ(c->policy.rules.size(), 2u);
  EXPECT_EQ(c->policy.rules[0].src_model, "smol*");
  EXPECT_DOUBLE_EQ(c->policy.rules[0].min_fidelity, 0.7);
  EXPECT_EQ(c->policy.metric, "ask_agreement");
  EXPECT_EQ(c->policy.rules[0].metric, "cosine");
  EXPECT_EQ(c->policy.rules[1].metric, "");
  ASSERT_EQ(c->tokens.size(), 2u);
  EXPECT_EQ(c->tokens[0].publish, std::vector<std::string>{"t.*"});
  EXPECT_EQ(c->tokens[0].send_to, std::vector<std::string>{"b-*"});
  EXPECT_EQ(c->tokens[1].send_to, std::vector<std::string>{"*"});  // the default
  EXPECT_TRUE(c->tokens[0].admin);
}

TEST(ConfigTest, RejectsTyposAndBadValues) {
  EXPECT_FALSE(ParseConfigYaml("listne: x").ok());
  EXPECT_FALSE(ParseConfigYaml("limits: {max_queue_depht: 3}").ok());
  EXPECT_FALSE(ParseConfigYaml("limits: {max_queue_depth: 0}").ok());
  EXPECT_FALSE(ParseConfigYaml("limits: {max_queue_depth: -3}").ok());
  EXPECT_FALSE(ParseConfigYaml("policy: {rules: [{class: poetry}]}").ok());
  EXPECT_FALSE(ParseConfigYaml("policy: {rules: [{form: telepathy}]}").ok());
  EXPECT_FALSE(ParseConfigYaml("tls: {cert: a.pem}").ok());
  EXPECT_FALSE(ParseConfigYaml("tokens: [{name: a, token: short}]").ok());
  EXPECT_FALSE(ParseConfigYaml("listen: [unterminated").ok());
  EXPECT_FALSE(ParseConfigYaml("translation: {compute_threads: -1}").ok());
  EXPECT_FALSE(ParseConfigYaml("translation: {kernels: fastest}").ok());
  EXPECT_TRUE(ParseConfigYaml("translation: {kernels: avx512vnni}").ok());
  EXPECT_TRUE(ParseConfigYaml("translation: {device: cuda}").ok());
  EXPECT_TRUE(ParseConfigYaml("translation: {device: \"cuda:1\", kernels: blas}").ok());
  EXPECT_FALSE(ParseConfigYaml("translation: {device: gpu}").ok());
  EXPECT_FALSE(ParseConfigYaml("translation: {device: \"cuda:\"}").ok());
  EXPECT_FALSE(ParseConfigYaml("translation: {device: \"cuda:-1\"}").ok());
  EXPECT_FALSE(ParseConfigYaml("translation: {device: cuda, kernels: int8}").ok());
  EXPECT_TRUE(ParseConfigYaml("translation: {inline_max_tokens: 1048576}").ok());
  EXPECT_FALSE(ParseConfigYaml("translation: {inline_max_tokens: 1048577}").ok());
  EXPECT_FALSE(ParseConfigYaml("translation: {inline_max_tokens: -1}").ok());
  EXPECT_FALSE(ParseConfigYaml("limits: {max_deadline_seconds: 0}").ok());
  EXPECT_FALSE(ParseConfigYaml("limits: {max_deadline_seconds: 40000000}").ok());
  EXPECT_TRUE(ParseConfigYaml("translation: {compute_threads: 0}").ok());
  absl::StatusOr<BrokerConfig> c = ParseConfigYaml("limits: {max_queue_depht: 3}");
  EXPECT_NE(c.status().message().find("max_queue_depht"), std::string::npos);
}

TEST(ConfigTest, ClusterSettingsAreCheckedAndOffByDefault) {
  EXPECT_FALSE(BrokerConfig{}.cluster.enabled());
  absl::StatusOr<BrokerConfig> c = ParseConfigYaml(
      "cluster: {servers: 'nats://a:4222, nats://b:4222', durability: fast, replicas: 3, "
      "stream: LB_TEST}");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->cluster.enabled());
  EXPECT_EQ(c->cluster.servers, "nats://a:4222, nats://b:4222");
  EXPECT_EQ(c->cluster.durability, "fast");
  EXPECT_EQ(c->cluster.replicas, 3);
  EXPECT_EQ(c->cluster.stream, "LB_TEST");
  EXPECT_EQ(ParseConfigYaml("{}")->cluster.durability, "always");
  for (const char* bad :
       {"cluster: {durability: sometimes}", "cluster: {replicas: 0}", "cluster: {stream: 'a.b'}",
        "cluster: {servers: 'http://a:1'}", "cluster: {server: 'nats://a:1'}"}) {
    absl::StatusOr<BrokerConfig> r = ParseConfigYaml(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("cluster"), std::string::npos) << r.status();
  }
}

// The configurations the deployment ships parse and validate with this parser (token
// files are pointed at a scratch folder: the real ones are secrets).
TEST(ConfigTest, DeployedBrokerFilesAreValid) {
  const std::string scratch = ::testing::TempDir() + "/latentbus-tokens";
  std::filesystem::create_directories(scratch);
  for (const char* name : {"agents", "operator", "prometheus"}) {
    std::ofstream(scratch + "/" + name) << "secret-" << name << "-0123456789\n";
  }
  for (const char* rel :
       {"deploy/k8s/base/broker/broker.yaml", "deploy/k8s/overlays/prod/broker.yaml"}) {
    std::ifstream in(std::string(LATENTBUS_SOURCE_DIR) + "/" + rel);
    ASSERT_TRUE(in) << rel;
    std::stringstream text;
    text << in.rdbuf();
    const std::string yaml = absl::StrReplaceAll(text.str(), {{"/etc/latentbus/tokens", scratch}});
    absl::StatusOr<BrokerConfig> c = ParseConfigYaml(yaml);
    ASSERT_TRUE(c.ok()) << rel << ": " << c.status();
    EXPECT_TRUE(ValidateConfig(*c).ok()) << rel << ": " << ValidateConfig(*c);
  }
}

}  // namespace
}  // namespace latentbus::broker
