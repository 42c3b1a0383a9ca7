#include "deploy/fleet/fleet_spec.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace latentbus::fleet {
namespace {

namespace fs = std::filesystem;

class FleetSpecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("fleet_spec_test_" + std::to_string(getpid()));
    fs::create_directories(dir_ / "models");
    std::ofstream(dir_ / "models" / "tiny.gguf") << "x";
    std::ofstream(dir_ / "broker.yaml") << "log_level: info\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  absl::StatusOr<FleetSpec> Parse(const std::string& yaml) {
    return ParseFleetYaml(yaml, dir_.string(), (dir_ / "models").string());
  }

  fs::path dir_;
};

TEST_F(FleetSpecTest, ParsesEveryKeyAndResolvesPaths) {
  absl::StatusOr<FleetSpec> spec = Parse(R"(
name: demo
ready_timeout_seconds: 60
stop_timeout_seconds: 7
broker:
  listen: 0.0.0.0:0
  metrics_listen: 127.0.0.1:9464
  config: broker.yaml
  drain_timeout_seconds: 2.5
  log_level: debug
  args: ["--max-queue-depth", "8"]
agents:
  - id: a.1
    model: tiny.gguf
    layer: 3
    encoding: int4/g32
    role: "short answers"
    topics: [tasks, news]
    threads: 2
    max_new_tokens: 16
    args: ["--extra"]
)");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name, "demo");
  EXPECT_EQ(spec->stop_timeout_seconds, 7);
  EXPECT_EQ(spec->broker.config, (dir_ / "broker.yaml").string());
  ASSERT_EQ(spec->agents.size(), 1u);
  const AgentSpec& a = spec->agents[0];
  EXPECT_EQ(a.model, (dir_ / "models" / "tiny.gguf").string());

  std::vector<std::string> broker = BrokerArgs(spec->broker, "/run/port");
  EXPECT_EQ(broker,
            (std::vector<std::string>{"broker", "--listen", "0.0.0.0:0", "--metrics-listen",
                                      "127.0.0.1:9464", "--port-file", "/run/port", "--config",
                                      (dir_ / "broker.yaml").string(), "--drain-timeout", "2.5",
                                      "--log-level", "debug", "--max-queue-depth", "8"}));
  std::vector<std::string> agent = AgentArgs(a, "127.0.0.1:7", "/run/a.ready");
  EXPECT_EQ(agent, (std::vector<std::string>{
                       "agent",    "--broker",     "127.0.0.1:7",   "--id",    "a.1",
                       "--model",  a.model,        "--layer",       "3",       "--encoding",
                       "int4/g32", "--role",       "short answers", "--topic", "tasks",
                       "--topic",  "news",         "--threads",     "2",       "--max-new-tokens",
                       "16",       "--ready-file", "/run/a.ready",  "--extra"}));
  EXPECT_EQ(DialAddress(spec->broker.listen, 4242), "127.0.0.1:4242");
  EXPECT_EQ(DialAddress("10.0.0.5:0", 4242), "10.0.0.5:4242");
}

TEST_F(FleetSpecTest, BrokerOnlyFleetUsesDefaults) {
  absl::StatusOr<FleetSpec> spec = Parse("name: solo\n");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->broker.listen, "127.0.0.1:0");
  EXPECT_TRUE(spec->agents.empty());
  EXPECT_EQ(BrokerArgs(spec->broker, "p"),
            (std::vector<std::string>{"broker", "--listen", "127.0.0.1:0", "--metrics-listen", "",
                                      "--port-file", "p"}));
}

// Each bad file is refused with a message naming the key that is wrong.
TEST_F(FleetSpecTest, RefusesBadFilesNamingTheKey) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"name: demo\nagnets: []\n", "agnets: unknown key"},
      {"name: demo\nbroker: {listen: 127.0.0.1:0, metrics: x}\n", "broker.metrics: unknown key"},
      {"name: demo\nagents: [{id: a, model: tiny.gguf, modle: x}]\n",
       "agents[0].modle: unknown key"},
      {"agents: []\n", "name: required"},
      {"name: Demo!\n", "name: required"},
      {"name: demo\nagents: [{id: a}]\n", "agents[0] (a).model: required"},
      {"name: demo\nagents: [{id: a, model: missing.gguf}]\n", "missing.gguf' not found"},
      {"name: demo\nagents: [{id: a, model: tiny.gguf}, {id: a, model: tiny.gguf}]\n",
       "duplicate id 'a'"},
      {"name: demo\nagents: [{id: a, model: tiny.gguf, layer: many}]\n",
       "agents[0].layer: wrong type"},
      {"name: demo\nbroker: {listen: nowhere}\n", "broker.listen: expected host:port"},
      {"name: demo\nbroker: {config: nope.yaml}\n", "nope.yaml' not found"},
      {"name: demo\nstop_timeout_seconds: 0\n", "stop_timeout_seconds: must be > 0"},
      {"name: demo\nagents: {id: a}\n", "agents: expected a list"},
      {"name: [unterminated\n", "not valid YAML"},
  };
  for (const auto& [yaml, expected] : cases) {
    absl::StatusOr<FleetSpec> spec = Parse(yaml);
    ASSERT_FALSE(spec.ok()) << yaml;
    EXPECT_NE(spec.status().message().find(expected), absl::string_view::npos)
        << yaml << " -> " << spec.status();
  }
}

TEST_F(FleetSpecTest, LoadFleetFileResolvesAgainstTheFilesFolder) {
  const fs::path file = dir_ / "fleet.yaml";
  std::ofstream(file) << "name: demo\nmodel_dir: models\nbroker: {config: broker.yaml}\n"
                         "agents: [{id: a, model: tiny.gguf}]\n";
  absl::StatusOr<FleetSpec> spec = LoadFleetFile(file.string());
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->source, file.string());
  EXPECT_EQ(spec->agents[0].model, (dir_ / "models" / "tiny.gguf").string());
  absl::StatusOr<FleetSpec> missing = LoadFleetFile((dir_ / "none.yaml").string());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

// deploy/fleet/demo.yaml stays a valid fleet: the dev topology, both real models.
TEST_F(FleetSpecTest, DemoFleetIsValid) {
  std::ofstream(dir_ / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf") << "x";
  std::ofstream(dir_ / "models" / "gemma-3-270m-q4_k_m.gguf") << "x";
  std::ifstream in(std::string(LATENTBUS_SOURCE_DIR) + "/deploy/fleet/demo.yaml");
  ASSERT_TRUE(in);
  std::ostringstream text;
  text << in.rdbuf();
  absl::StatusOr<FleetSpec> spec =
      ParseFleetYaml(text.str(), LATENTBUS_SOURCE_DIR "/deploy/fleet", (dir_ / "models").string());
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name, "demo");
  ASSERT_EQ(spec->agents.size(), 2u);
  EXPECT_EQ(spec->agents[0].id, "smollm2");
  EXPECT_EQ(spec->agents[1].id, "gemma3");
  // The shipped trained bridges, resolved against the file's folder.
  EXPECT_TRUE(std::filesystem::is_directory(spec->broker.bridges)) << spec->broker.bridges;
}

}  // namespace
}  // namespace latentbus::fleet
