#include "nats/nats_server_config.h"

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nats/nats_server_binary.h"

namespace latentbus::nats {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

NatsServerOptions ResolvedPlain() {
  NatsServerOptions options;
  options.port = 4001;
  options.monitor_port = 4002;
  return options;
}

TEST(NatsServerConfigTest, PlainServerListensOnLoopbackWithAtLeastOneMebibyte) {
  NatsServerOptions options = ResolvedPlain();
  options.max_payload = 1000;
  const std::string config = NatsServerConfig(options, "");
  EXPECT_THAT(config, HasSubstr("listen: 127.0.0.1:4001\n"));
  EXPECT_THAT(config, HasSubstr("http: 127.0.0.1:4002\n"));
  EXPECT_THAT(config, HasSubstr("max_payload: 1048576\n"));
  EXPECT_THAT(config, Not(HasSubstr("jetstream")));
  EXPECT_THAT(config, Not(HasSubstr("cluster")));
  EXPECT_THAT(config, Not(HasSubstr("server_name")));

  options.max_payload = 4 << 20;
  EXPECT_THAT(NatsServerConfig(options, ""), HasSubstr("max_payload: 4194304\n"));
}

TEST(NatsServerConfigTest, JetStreamSyncsAlwaysUnlessTurnedOff) {
  NatsServerOptions options = ResolvedPlain();
  options.jetstream = true;
  const std::string config = NatsServerConfig(options, "/tmp/a \"quoted\" dir");
  EXPECT_THAT(config, HasSubstr("jetstream {\n  store_dir: \"/tmp/a \\\"quoted\\\" dir\"\n"
                                "  sync_interval: always\n}\n"));
  options.sync_always = false;
  EXPECT_THAT(NatsServerConfig(options, "/s"), Not(HasSubstr("sync_interval")));
}

TEST(NatsServerConfigTest, ClusterNodeNamesItselfAndEveryRoute) {
  NatsServerOptions options = ResolvedPlain();
  options.jetstream = true;
  options.server_name = "n1";
  options.cluster.emplace();
  options.cluster->name = "c";
  options.cluster->port = 4003;
  options.cluster->routes = {"nats://127.0.0.1:4003", "nats://127.0.0.1:5003"};
  const std::string config = NatsServerConfig(options, "/s");
  EXPECT_THAT(config, HasSubstr("server_name: \"n1\"\n"));
  EXPECT_THAT(config, HasSubstr("cluster {\n  name: \"c\"\n  listen: 127.0.0.1:4003\n"
                                "  routes: [\n    \"nats://127.0.0.1:4003\"\n"
                                "    \"nats://127.0.0.1:5003\"\n  ]\n}\n"));
}

TEST(NatsServerVersionTest, JetStreamRunsOnlyOnThePinnedMinorLine) {
  EXPECT_TRUE(CheckJetStreamVersion("x", "nats-server: v2.15.1").ok());
  EXPECT_TRUE(CheckJetStreamVersion("x", "nats-server: v2.15.9").ok());
  for (const char* other : {"nats-server: v2.9.10", "nats-server: v2.10.22",
                            "nats-server: v2.150.0", "nats-server: v2.1.15", ""}) {
    const absl::Status s = CheckJetStreamVersion("/usr/sbin/nats-server", other);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << other;
    EXPECT_THAT(s.message(), HasSubstr("scripts/install-nats-server.sh")) << other;
    EXPECT_THAT(s.message(), HasSubstr("/usr/sbin/nats-server")) << other;
    EXPECT_THAT(s.message(), HasSubstr("2.10.23")) << other;
  }
}

}  // namespace
}  // namespace latentbus::nats
