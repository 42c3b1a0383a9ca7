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
  s.broker_address = "127.0.0.1:4242";
  s.stop_timeout_seconds = 12.5;
  s.broker = {"broker", {11, 22}, ""};
  s.agents = {{"a", {33, 44}, "/run/a.ready"}, {"b", {55, 66}, "/run/b.ready"}};
  s.exit_code = 3;
  ASSERT_TRUE(WriteState(s, StatePath(dir.string())).ok());
  absl::StatusOr<FleetState> r = ReadState(StatePath(dir.string()));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->name, "demo");
  EXPECT_EQ(r->phase, "running");
  EXPECT_EQ(r->supervisor.pid, getpid());
  EXPECT_EQ(r->supervisor.start_time, s.supervisor.start_time);
  EXPECT_EQ(r->broker_address, "127.0.0.1:4242");
  EXPECT_EQ(r->stop_timeout_seconds, 12.5);
  EXPECT_EQ(r->broker.process.start_time, 22u);
  ASSERT_EQ(r->agents.size(), 2u);
  EXPECT_EQ(r->agents[1].ready_file, "/run/b.ready");
  EXPECT_EQ(r->exit_code, 3);

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
