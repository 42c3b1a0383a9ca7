// Real nats-servers (the pinned one, or $LATENTBUS_NATS_SERVER) as child processes.
#include <nats/nats.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nats/loopback_ports.h"
#include "nats/nats_cluster.h"
#include "nats/nats_health.h"
#include "nats/nats_server_process.h"
#include "nlohmann/json.hpp"

namespace latentbus::nats {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::unique_ptr<NatsServerProcess> StartOrDie(NatsServerOptions options) {
  absl::StatusOr<std::unique_ptr<NatsServerProcess>> server =
      NatsServerProcess::Start(std::move(options));
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? std::move(*server) : nullptr;
}

NatsServerOptions JetStreamOptions() {
  NatsServerOptions options;
  options.jetstream = true;
  return options;
}

// GET `path` from the monitoring endpoint as JSON (null when it does not answer 200).
nlohmann::json Monitor(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  httplib::Result res = client.Get(path);
  if (!res || res->status != 200) return nullptr;
  return nlohmann::json::parse(res->body, nullptr, false);
}

TEST(NatsServerProcessTest, PlainServerForTheBenchListensOnFreePorts) {
  absl::StatusOr<std::unique_ptr<NatsServerProcess>> server =
      NatsServerProcess::Start(DefaultNatsServer(), 4 << 20);
  ASSERT_TRUE(server.ok()) << server.status();
  NatsServerProcess& s = **server;
  EXPECT_GT(s.port(), 0);
  EXPECT_GT(s.monitor_port(), 0);
  EXPECT_NE(s.port(), s.monitor_port());
  EXPECT_EQ(s.cluster_port(), 0);
  EXPECT_EQ(s.url(), absl::StrCat("nats://127.0.0.1:", s.port()));
  EXPECT_TRUE(AcceptsConnections(s.port()));
  EXPECT_THAT(s.version(), HasSubstr("nats-server: v"));
  EXPECT_TRUE(s.store_dir().empty());
  const nlohmann::json varz = Monitor(s.monitor_port(), "/varz");
  ASSERT_TRUE(varz.is_object());
  EXPECT_EQ(varz.value("max_payload", 0), 4 << 20);
  EXPECT_GE(s.CpuSeconds(), 0.0);
}

TEST(NatsServerProcessTest, JetStreamServerIsHealthyAndSyncsEveryWrite) {
  std::unique_ptr<NatsServerProcess> server = StartOrDie(JetStreamOptions());
  ASSERT_NE(server, nullptr);
  const NatsHealth health = ProbeNatsHealth(server->monitor_port());
  EXPECT_TRUE(health.healthy) << health.problem;
  EXPECT_TRUE(health.jetstream);
  EXPECT_TRUE(health.meta_leader.empty());  // standalone
  const nlohmann::json jsz = Monitor(server->monitor_port(), "/jsz");
  ASSERT_TRUE(jsz.is_object());
  EXPECT_EQ(jsz["config"]["sync_always"], true);
  EXPECT_EQ(jsz["config"]["store_dir"], server->store_dir() + "/jetstream");
  EXPECT_EQ(fs::path(server->store_dir()).parent_path(), fs::path(server->work_dir()));
}

TEST(NatsServerProcessTest, StopIsIdempotentAndTheTemporaryFoldersGo) {
  std::unique_ptr<NatsServerProcess> server = StartOrDie(JetStreamOptions());
  ASSERT_NE(server, nullptr);
  const std::string work_dir = server->work_dir();
  const int port = server->port();
  ASSERT_TRUE(fs::exists(server->store_dir() + "/jetstream"));
  server->Stop();
  EXPECT_EQ(server->pid(), -1);
  EXPECT_FALSE(server->Running());
  EXPECT_FALSE(AcceptsConnections(port));
  EXPECT_DOUBLE_EQ(server->CpuSeconds(), 0.0);
  server->Stop();
  EXPECT_EQ(server->Signal(SIGTERM).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(fs::exists(work_dir));  // until the object goes: Restart may follow
  server.reset();
  EXPECT_FALSE(fs::exists(work_dir));
}

TEST(NatsServerProcessTest, AGivenStoreFolderIsKept) {
  const fs::path store =
      fs::path(::testing::TempDir()) / absl::StrCat("latentbus-nats-given-store-", getpid());
  fs::remove_all(store);
  NatsServerOptions options = JetStreamOptions();
  options.store_dir = store.string();
  std::unique_ptr<NatsServerProcess> server = StartOrDie(options);
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->store_dir(), store.string());
  const std::string work_dir = server->work_dir();
  server.reset();
  EXPECT_FALSE(fs::exists(work_dir));
  EXPECT_TRUE(fs::exists(store / "jetstream"));
  fs::remove_all(store);
}

TEST(NatsServerProcessTest, StoppedBySigstopUntilSigcont) {
  std::unique_ptr<NatsServerProcess> server = StartOrDie(JetStreamOptions());
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(server->Signal(SIGSTOP).ok());
  EXPECT_TRUE(server->Running());
  const NatsHealth frozen = ProbeNatsHealth(server->monitor_port());
  EXPECT_FALSE(frozen.healthy);
  EXPECT_THAT(frozen.problem, HasSubstr("no answer"));
  ASSERT_TRUE(server->Signal(SIGCONT).ok());
  const NatsHealth thawed = ProbeNatsHealth(server->monitor_port());
  EXPECT_TRUE(thawed.healthy) << thawed.problem;
  // Stop reaches a stopped server too (it sends SIGCONT after SIGTERM).
  ASSERT_TRUE(server->Signal(SIGSTOP).ok());
  server->Stop();
  EXPECT_FALSE(server->Running());
}

// A publish JetStream acknowledged survives SIGKILL: Restart brings the server back on its
// port with its store folder, and the stream still holds the message.
TEST(NatsServerProcessTest, KilledJetStreamServerRestartsWithItsStreams) {
  std::unique_ptr<NatsServerProcess> server = StartOrDie(JetStreamOptions());
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  const int monitor_port = server->monitor_port();
  const std::string store = server->store_dir();
  const pid_t first_pid = server->pid();

  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  ASSERT_EQ(natsConnection_ConnectTo(&nc, server->url().c_str()), NATS_OK);
  ASSERT_EQ(natsConnection_JetStream(&js, nc, nullptr), NATS_OK);
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = "ORDERS";
  const char* subjects[] = {"orders.>"};
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Storage = js_FileStorage;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  jsStreamInfo* info = nullptr;
  ASSERT_EQ(js_AddStream(&info, js, &config, nullptr, &js_error), NATS_OK) << js_error;
  jsStreamInfo_Destroy(info);
  jsPubAck* ack = nullptr;
  ASSERT_EQ(js_Publish(&ack, js, "orders.1", "hello", 5, nullptr, &js_error), NATS_OK);
  EXPECT_EQ(ack->Sequence, 1u);
  jsPubAck_Destroy(ack);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);

  ASSERT_TRUE(server->Signal(SIGKILL).ok());
  EXPECT_EQ(server->pid(), -1);
  EXPECT_FALSE(AcceptsConnections(port));
  ASSERT_TRUE(server->Restart().ok());
  EXPECT_EQ(server->port(), port);
  EXPECT_EQ(server->monitor_port(), monitor_port);
  EXPECT_EQ(server->store_dir(), store);
  EXPECT_NE(server->pid(), first_pid);
  EXPECT_THAT(server->LogTail(1 << 20),
              HasSubstr("[latentbus] restart (the previous run was killed"));

  ASSERT_EQ(natsConnection_ConnectTo(&nc, server->url().c_str()), NATS_OK);
  ASSERT_EQ(natsConnection_JetStream(&js, nc, nullptr), NATS_OK);
  ASSERT_EQ(js_GetStreamInfo(&info, js, "ORDERS", nullptr, &js_error), NATS_OK) << js_error;
  EXPECT_EQ(info->State.Msgs, 1u);
  jsStreamInfo_Destroy(info);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
}

TEST(NatsServerProcessTest, AMissingBinaryIsNotFoundAndNamed) {
  NatsServerOptions options;
  options.binary = "/nonexistent/latentbus/nats-server";
  absl::StatusOr<std::unique_ptr<NatsServerProcess>> server = NatsServerProcess::Start(options);
  EXPECT_EQ(server.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(server.status().message(), HasSubstr("/nonexistent/latentbus/nats-server"));

  options.binary = "latentbus-no-such-nats-server";
  server = NatsServerProcess::Start(options);
  EXPECT_EQ(server.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(server.status().message(), HasSubstr("latentbus-no-such-nats-server"));
  EXPECT_THAT(server.status().message(), HasSubstr("scripts/install-nats-server.sh"));
}

TEST(NatsServerProcessTest, JetStreamRefusesAnotherVersion) {
  // A stand-in that reports Debian's version and would serve nothing.
  const fs::path fake =
      fs::path(::testing::TempDir()) / absl::StrCat("latentbus-fake-nats-server-", getpid());
  {
    std::ofstream out(fake);
    out << "#!/bin/sh\necho 'nats-server: v2.9.10'\n";
  }
  fs::permissions(fake, fs::perms::owner_all);
  NatsServerOptions options = JetStreamOptions();
  options.binary = fake.string();
  absl::StatusOr<std::unique_ptr<NatsServerProcess>> server = NatsServerProcess::Start(options);
  EXPECT_EQ(server.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(server.status().message(), HasSubstr("v2.9.10"));
  EXPECT_THAT(server.status().message(), HasSubstr("scripts/install-nats-server.sh"));
  fs::remove(fake);
}

TEST(NatsServerProcessTest, AClusterJetStreamNodeNeedsAName) {
  NatsServerOptions options = JetStreamOptions();
  options.cluster.emplace();
  EXPECT_EQ(NatsServerProcess::Start(options).status().code(), absl::StatusCode::kInvalidArgument);
}

std::unique_ptr<NatsCluster> StartCluster(int n) {
  absl::StatusOr<std::unique_ptr<NatsCluster>> cluster = NatsCluster::Start(n);
  EXPECT_TRUE(cluster.ok()) << cluster.status();
  return cluster.ok() ? std::move(*cluster) : nullptr;
}

TEST(NatsClusterTest, ThreeNodesBecomeReadyWithinTenSeconds) {
  std::unique_ptr<NatsCluster> cluster = StartCluster(3);
  ASSERT_NE(cluster, nullptr);
  const absl::Time start = absl::Now();
  ASSERT_TRUE(cluster->WaitReady(absl::Seconds(10)).ok());
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));

  const std::vector<std::string> urls = absl::StrSplit(cluster->urls(), ',');
  ASSERT_EQ(urls.size(), 3u);
  std::string leader;
  for (int i = 0; i < 3; ++i) {
    NatsServerProcess& node = cluster->node(i);
    EXPECT_EQ(urls[i], node.url());
    EXPECT_EQ(node.server_name(), absl::StrCat("n", i));
    EXPECT_EQ(node.store_dir(), absl::StrCat(cluster->root(), "/n", i));
    EXPECT_GT(node.cluster_port(), 0);
    const NatsHealth health = ProbeNatsHealth(node.monitor_port());
    EXPECT_TRUE(health.healthy) << health.problem;
    EXPECT_FALSE(health.meta_leader.empty());
    if (i == 0) leader = health.meta_leader;
    EXPECT_EQ(health.meta_leader, leader);
    const nlohmann::json jsz = Monitor(node.monitor_port(), "/jsz");
    EXPECT_EQ(jsz["meta_cluster"]["cluster_size"], 3);
  }

  std::vector<std::string> dirs = {cluster->root()};
  for (int i = 0; i < 3; ++i) dirs.push_back(cluster->node(i).work_dir());
  cluster.reset();
  for (const std::string& dir : dirs) EXPECT_FALSE(fs::exists(dir)) << dir;
}

TEST(NatsClusterTest, AnR3StreamIsReportedByItsLeaderWithBothCopiesCurrent) {
  std::unique_ptr<NatsCluster> cluster = StartCluster(3);
  ASSERT_NE(cluster, nullptr);
  ASSERT_TRUE(cluster->WaitReady(absl::Seconds(10)).ok());
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  ASSERT_EQ(natsConnection_ConnectTo(&nc, cluster->urls().c_str()), NATS_OK);
  ASSERT_EQ(natsConnection_JetStream(&js, nc, nullptr), NATS_OK);
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = "ORDERS";
  const char* subjects[] = {"orders.>"};
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Storage = js_FileStorage;
  config.Replicas = 3;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  jsStreamInfo* info = nullptr;
  ASSERT_EQ(js_AddStream(&info, js, &config, nullptr, &js_error), NATS_OK) << js_error;
  jsStreamInfo_Destroy(info);
  jsPubAck* ack = nullptr;
  ASSERT_EQ(js_Publish(&ack, js, "orders.1", "hello", 5, nullptr, &js_error), NATS_OK);
  jsPubAck_Destroy(ack);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);

  // Followers may take a moment to report the copies current.
  std::vector<NatsStream> streams;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    std::vector<NatsHealth> probes;
    for (int i = 0; i < 3; ++i) {
      probes.push_back(ProbeNatsHealth(cluster->node(i).monitor_port(), /*streams=*/true));
    }
    streams = StreamsAsLeadersSee(probes);
    if (streams.size() == 1 && streams[0].replicas.size() == 2 && streams[0].replicas[0].current &&
        streams[0].replicas[1].current) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_EQ(streams.size(), 1u);
  const NatsStream& orders = streams[0];
  EXPECT_EQ(orders.name, "ORDERS");
  EXPECT_THAT(orders.leader, ::testing::MatchesRegex("n[012]"));
  EXPECT_EQ(orders.messages, 1u);
  ASSERT_EQ(orders.replicas.size(), 2u);
  for (const NatsStreamReplica& r : orders.replicas) {
    EXPECT_NE(r.name, orders.leader);
    EXPECT_TRUE(r.current) << r.name;
    EXPECT_FALSE(r.offline) << r.name;
  }
}

// A follower: killing the meta leader would cost a re-election (about 5 s in nats-server).
TEST(NatsClusterTest, AKilledNodeRestartsOnItsPortsAndStore) {
  std::unique_ptr<NatsCluster> cluster = StartCluster(3);
  ASSERT_NE(cluster, nullptr);
  ASSERT_TRUE(cluster->WaitReady(absl::Seconds(10)).ok());
  const std::string leader = ProbeNatsHealth(cluster->node(0).monitor_port()).meta_leader;
  NatsServerProcess& node = cluster->node(leader == "n1" ? 2 : 1);
  const int port = node.port();
  const int monitor_port = node.monitor_port();
  const int cluster_port = node.cluster_port();
  const std::string store = node.store_dir();
  const pid_t first_pid = node.pid();
  ASSERT_TRUE(fs::exists(store + "/jetstream"));

  ASSERT_TRUE(node.Signal(SIGKILL).ok());
  const absl::Status down = cluster->WaitReady(absl::Seconds(10));
  EXPECT_EQ(down.code(), absl::StatusCode::kFailedPrecondition);  // at once, not after 10 s
  EXPECT_THAT(down.message(), HasSubstr(node.server_name() + " is not running"));

  ASSERT_TRUE(node.Restart().ok());
  EXPECT_NE(node.pid(), first_pid);
  EXPECT_EQ(node.port(), port);
  EXPECT_EQ(node.monitor_port(), monitor_port);
  EXPECT_EQ(node.cluster_port(), cluster_port);
  EXPECT_EQ(node.store_dir(), store);
  const absl::Status ready = cluster->WaitReady(absl::Seconds(15));
  EXPECT_TRUE(ready.ok()) << ready;
}

TEST(NatsClusterTest, WaitReadyNamesAFrozenNodeAndItsLog) {
  std::unique_ptr<NatsCluster> cluster = StartCluster(3);
  ASSERT_NE(cluster, nullptr);
  ASSERT_TRUE(cluster->WaitReady(absl::Seconds(10)).ok());
  ASSERT_TRUE(cluster->node(2).Signal(SIGSTOP).ok());
  const absl::Status frozen = cluster->WaitReady(absl::Milliseconds(500));
  EXPECT_EQ(frozen.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(frozen.message(), HasSubstr("n2 (http://127.0.0.1:"));
  EXPECT_THAT(frozen.message(), HasSubstr("no answer from /healthz"));
  EXPECT_THAT(frozen.message(), HasSubstr("--- n2 log (tail) ---"));
  ASSERT_TRUE(cluster->node(2).Signal(SIGCONT).ok());
  const absl::Status ready = cluster->WaitReady(absl::Seconds(15));
  EXPECT_TRUE(ready.ok()) << ready;
}

TEST(NatsClusterTest, RefusesSetPortsAndNoNodes) {
  EXPECT_EQ(NatsCluster::Start(0).status().code(), absl::StatusCode::kInvalidArgument);
  NatsServerOptions options;
  options.port = 4222;
  EXPECT_EQ(NatsCluster::Start(3, options).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace latentbus::nats
