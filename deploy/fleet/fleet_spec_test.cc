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

  EXPECT_FALSE(spec->nats);
  EXPECT_EQ(BrokerName(spec->broker, 0), "broker");
  std::vector<std::string> broker = BrokerArgs(*spec, 0, "/run/port", "");
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
  EXPECT_EQ(BrokerArgs(*spec, 0, "p", ""),
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
      {"name: demo\nnats: {servers: 6}\n", "nats.servers: must be 1 to 5"},
      {"name: demo\nnats: {sevrers: 3}\n", "nats.sevrers: unknown key"},
      {"name: demo\nnats: {port: -1}\n", "nats.port: must be 0"},
      {"name: demo\nnats: {sync_always: maybe}\n", "nats.sync_always: wrong type"},
      {"name: demo\nnats: {max_payload: 1000}\n", "nats.max_payload: must be"},
      {"name: demo\nnats: {binary: ./no-nats-server}\n", "nats.binary: file '"},
      {"name: demo\nbroker: {replicas: 2}\n", "broker.replicas: several brokers need a nats:"},
      {"name: demo\nnats: {}\nbroker: {replicas: 0}\n", "broker.replicas: must be 1 to 16"},
      {"name: demo\nnats: {port: 4222, monitor_port: 4224}\n",
       "nats.monitor_port: ports 4224-4226 overlap nats.port's ports 4222-4224"},
      {"name: demo\nnats: {port: 7071}\nbroker: {replicas: 2, listen: 127.0.0.1:7070}\n",
       "nats.port: ports 7071-7073 overlap broker.listen's ports 7070-7071"},
      {"name: demo\nbroker: {listen: 127.0.0.1:9464, metrics_listen: 127.0.0.1:9464}\n",
       "broker.metrics_listen: port 9464 overlap broker.listen's port 9464"},
      {"name: demo\nnats: {port: 65534}\n", "nats.port: ports 65534-65536 pass 65535"},
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

TEST_F(FleetSpecTest, NatsSectionDefaultsAndNodes) {
  absl::StatusOr<FleetSpec> spec = Parse("name: js\nnats:\n");
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_TRUE(spec->nats);
  const NatsSpec& n = *spec->nats;
  EXPECT_EQ(n.servers, 3);
  EXPECT_TRUE(n.sync_always);
  EXPECT_EQ(n.max_payload, 8u << 20);
  EXPECT_TRUE(n.binary.empty());
  EXPECT_EQ(NatsStoreRoot(n, "/run/js"), "/run/js/nats");
  // Every port free: client, route and monitoring port for each of the three servers.
  ASSERT_EQ(NatsPortsToPick(n), 9);
  const std::vector<nats::NatsServerOptions> nodes =
      NatsNodes(n, "js", "/store", {101, 102, 103, 201, 202, 203, 301, 302, 303});
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_EQ(nodes[1].server_name, "nats1");
  EXPECT_EQ(nodes[1].port, 201);
  EXPECT_EQ(nodes[1].cluster->port, 202);
  EXPECT_EQ(nodes[1].monitor_port, 203);
  EXPECT_EQ(nodes[1].store_dir, "/store/nats1");
  EXPECT_TRUE(nodes[1].jetstream);
  EXPECT_EQ(nodes[1].cluster->name, "js");
  EXPECT_EQ(nodes[1].cluster->routes,
            (std::vector<std::string>{"nats://127.0.0.1:102", "nats://127.0.0.1:202",
                                      "nats://127.0.0.1:302"}));
  EXPECT_EQ(NatsUrls(nodes), "nats://127.0.0.1:101,nats://127.0.0.1:201,nats://127.0.0.1:301");

  // One server: standalone JetStream, no route port to pick.
  spec = Parse("name: js\nnats: {servers: 1, monitor_port: 8222, sync_always: false}\n");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(NatsPortsToPick(*spec->nats), 1);
  const std::vector<nats::NatsServerOptions> one = NatsNodes(*spec->nats, "js", "/s", {4000});
  ASSERT_EQ(one.size(), 1u);
  EXPECT_FALSE(one[0].cluster);
  EXPECT_FALSE(one[0].sync_always);
  EXPECT_EQ(one[0].port, 4000);
  EXPECT_EQ(one[0].monitor_port, 8222);
  EXPECT_EQ(BrokerArgs(*spec, 0, "p", "nats://127.0.0.1:4000"),
            (std::vector<std::string>{"broker", "--listen", "127.0.0.1:0", "--metrics-listen", "",
                                      "--port-file", "p", "--cluster", "nats://127.0.0.1:4000",
                                      "--cluster-replicas", "1", "--broker-name", "broker"}));

  // A binary path is resolved against the file's folder; a store folder too.
  std::ofstream(dir_ / "nats-server") << "#!/bin/sh\n";
  spec = Parse("name: js\nnats: {binary: ./nats-server, store_dir: queues}\n");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->nats->binary, (dir_ / "nats-server").string());
  EXPECT_EQ(NatsStoreRoot(*spec->nats, "/run/js"), (dir_ / "queues").string());
  EXPECT_EQ(NatsNodes(*spec->nats, "js", "/s", std::vector<int>(9, 1))[0].binary,
            (dir_ / "nats-server").string());
}

TEST_F(FleetSpecTest, ShiftsPortsAndRotatesBrokerLists) {
  EXPECT_EQ(ShiftPort("127.0.0.1:7070", 1), "127.0.0.1:7071");
  EXPECT_EQ(ShiftPort("[::1]:7070", 2), "[::1]:7072");
  EXPECT_EQ(ShiftPort("127.0.0.1:0", 1), "127.0.0.1:0");
  EXPECT_EQ(ShiftPort("", 1), "");
  const std::vector<std::string> brokers = {"b0:1", "b1:2", "b2:3"};
  EXPECT_EQ(AgentBrokers(brokers, 0), "b0:1,b1:2,b2:3");
  EXPECT_EQ(AgentBrokers(brokers, 1), "b1:2,b2:3,b0:1");
  EXPECT_EQ(AgentBrokers(brokers, 4), "b1:2,b2:3,b0:1");
  EXPECT_EQ(AgentBrokers({"solo:7070"}, 3), "solo:7070");
}

// deploy/fleet/cluster.yaml: three nats-servers, two brokers in cluster mode, both agents.
TEST_F(FleetSpecTest, ClusterFleetIsValidAndWiresBrokersToJetStream) {
  std::ofstream(dir_ / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf") << "x";
  std::ofstream(dir_ / "models" / "gemma-3-270m-q4_k_m.gguf") << "x";
  std::ifstream in(std::string(LATENTBUS_SOURCE_DIR) + "/deploy/fleet/cluster.yaml");
  ASSERT_TRUE(in);
  std::ostringstream text;
  text << in.rdbuf();
  absl::StatusOr<FleetSpec> spec =
      ParseFleetYaml(text.str(), LATENTBUS_SOURCE_DIR "/deploy/fleet", (dir_ / "models").string());
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name, "cluster");
  ASSERT_TRUE(spec->nats);
  EXPECT_EQ(spec->nats->servers, 3);
  EXPECT_TRUE(spec->nats->sync_always);
  EXPECT_EQ(NatsPortsToPick(*spec->nats), 0);  // fixed ports
  const std::vector<nats::NatsServerOptions> nodes =
      NatsNodes(*spec->nats, spec->name, "/run/cluster/nats", {});
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_EQ(nodes[2].port, 4224);
  EXPECT_EQ(nodes[2].cluster->port, 6224);
  EXPECT_EQ(nodes[2].monitor_port, 8224);
  EXPECT_EQ(nodes[2].store_dir, "/run/cluster/nats/nats2");
  // The configuration nats/ writes: JetStream synced on every write, routes to every node.
  const std::string config = nats::NatsServerConfig(nodes[2], nodes[2].store_dir);
  EXPECT_NE(config.find("sync_interval: always"), std::string::npos) << config;
  EXPECT_NE(config.find("\"nats://127.0.0.1:6222\""), std::string::npos) << config;
  EXPECT_NE(config.find("server_name: \"nats2\""), std::string::npos) << config;
  const std::string urls = NatsUrls(nodes);
  EXPECT_EQ(urls, "nats://127.0.0.1:4222,nats://127.0.0.1:4223,nats://127.0.0.1:4224");

  EXPECT_EQ(spec->broker.replicas, 2);
  EXPECT_EQ(BrokerName(spec->broker, 1), "broker1");
  const std::vector<std::string> b1 = BrokerArgs(*spec, 1, "/run/broker1.port", urls);
  const std::vector<std::string> expected_start = {"broker",
                                                   "--listen",
                                                   "127.0.0.1:7071",
                                                   "--metrics-listen",
                                                   "127.0.0.1:9465",
                                                   "--port-file",
                                                   "/run/broker1.port",
                                                   "--cluster",
                                                   urls,
                                                   "--cluster-replicas",
                                                   "3",
                                                   "--broker-name",
                                                   "broker1"};
  ASSERT_GE(b1.size(), expected_start.size());
  EXPECT_EQ(std::vector<std::string>(b1.begin(), b1.begin() + expected_start.size()),
            expected_start);

  ASSERT_EQ(spec->agents.size(), 2u);
  const std::vector<std::string> brokers = {"127.0.0.1:7070", "127.0.0.1:7071"};
  const std::vector<std::string> gemma =
      AgentArgs(spec->agents[1], AgentBrokers(brokers, 1), "/run/gemma3.ready");
  EXPECT_EQ(gemma[1], "--broker");
  EXPECT_EQ(gemma[2], "127.0.0.1:7071,127.0.0.1:7070");
}

}  // namespace
}  // namespace latentbus::fleet
