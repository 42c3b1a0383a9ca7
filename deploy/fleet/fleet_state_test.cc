#include "deploy/fleet/fleet_state.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace latentbus::fleet {
namespace {

namespace fs = std::filesystem;

TEST(FleetStateTest, RoundTripsThroughTheFile) {
  const fs::path dir = fs::temp_directory_path() / ("fleet_state_test_" + std::to_string(getpid()));
  fs::create_directories(dir);
  FleetState s;
  s.name = "demo";
  s.fleet_file = "/x/demo.yaml";
  s.phase = "running";
  s.started_unix = 1700000000;
  s.supervisor = Identify(getpid());
  s.broker_address = "127.0.0.1:4242,127.0.0.1:4243";
  s.stop_timeout_seconds = 12.5;
  s.nats = {{"nats0", {7, 8}, "", "nats://127.0.0.1:4222", "127.0.0.1:8222"}};
  s.brokers = {{"broker0", {11, 22}, "", "127.0.0.1:4242", "127.0.0.1:9464"},
               {"broker1", {12, 23}, "", "127.0.0.1:4243", ""}};
  s.agents = {{"a", {33, 44}, "/run/a.ready", "", ""}, {"b", {55, 66}, "/run/b.ready", "", ""}};
  s.exit_code = 3;
  ASSERT_TRUE(WriteState(s, StatePath(dir.string())).ok());
  absl::StatusOr<FleetState> r = ReadState(StatePath(dir.string()));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->name, "demo");
  EXPECT_EQ(r->phase, "running");
  EXPECT_EQ(r->supervisor.pid, getpid());
  EXPECT_EQ(r->supervisor.start_time, s.supervisor.start_time);
  EXPECT_EQ(r->broker_address, "127.0.0.1:4242,127.0.0.1:4243");
  EXPECT_EQ(r->stop_timeout_seconds, 12.5);
  ASSERT_EQ(r->nats.size(), 1u);
  EXPECT_EQ(r->nats[0].address, "nats://127.0.0.1:4222");
  EXPECT_EQ(r->nats[0].monitor, "127.0.0.1:8222");
  ASSERT_EQ(r->brokers.size(), 2u);
  EXPECT_EQ(r->brokers[0].process.start_time, 22u);
  EXPECT_EQ(r->brokers[0].monitor, "127.0.0.1:9464");
  EXPECT_EQ(r->brokers[1].name, "broker1");
  EXPECT_EQ(r->brokers[1].address, "127.0.0.1:4243");
  ASSERT_EQ(r->agents.size(), 2u);
  EXPECT_EQ(r->agents[1].ready_file, "/run/b.ready");
  EXPECT_EQ(r->exit_code, 3);

  // A file from a `fleet up` of one broker only (no "brokers", no "nats").
  std::ofstream(StatePath(dir.string()))
      << R"({"name": "demo", "fleet_file": "", "phase": "running",
    "started_unix": 1, "supervisor": {"pid": 5, "start_time": 6},
    "broker_address": "127.0.0.1:7070", "metrics_listen": "127.0.0.1:9464",
    "stop_timeout_seconds": 30,
    "broker": {"name": "broker", "process": {"pid": 9, "start_time": 10}, "ready_file": ""},
    "agents": [{"name": "a", "process": {"pid": 11, "start_time": 12}, "ready_file": "/r"}]})";
  r = ReadState(StatePath(dir.string()));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->brokers.size(), 1u);
  EXPECT_EQ(r->brokers[0].name, "broker");
  EXPECT_EQ(r->brokers[0].process.pid, 9);
  EXPECT_EQ(r->brokers[0].address, "127.0.0.1:7070");
  EXPECT_EQ(r->brokers[0].monitor, "127.0.0.1:9464");
  EXPECT_TRUE(r->nats.empty());
  EXPECT_EQ(r->agents[0].ready_file, "/r");

  std::ofstream(StatePath(dir.string())) << "{\"name\": 1}";
  EXPECT_EQ(ReadState(StatePath(dir.string())).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ReadState((dir / "none.json").string()).status().code(), absl::StatusCode::kNotFound);
  fs::remove_all(dir);
}

// A recorded process is running only while it lives, is not a zombie, and has the start
// time recorded (a reused pid does not count).
TEST(FleetStateTest, IsRunningChecksLivenessAndIdentity) {
  const ProcessId self = Identify(getpid());
  ASSERT_GT(self.start_time, 0u);
  EXPECT_TRUE(IsRunning(self));
  EXPECT_FALSE(IsRunning({self.pid, self.start_time + 1}));

  const pid_t child = fork();
  if (child == 0) _exit(0);
  ASSERT_GT(child, 0);
  // Exited but not reaped: a zombie is not running.
  for (int i = 0; i < 100 && ProcessStartTime(child); ++i) usleep(10000);
  EXPECT_FALSE(IsRunning({child, 0}));
  waitpid(child, nullptr, 0);
  EXPECT_FALSE(IsRunning({child, 0}));
  EXPECT_FALSE(IsRunning({0, 0}));
}

}  // namespace
}  // namespace latentbus::fleet
