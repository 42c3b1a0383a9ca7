// Memory: 1,000 connected idle agents must cost the broker less than 256 MiB resident.
//
// The broker runs in this process; the 1,000 client streams run in a forked child (forked
// before gRPC starts here) so the VmRSS read from /proc/self/status is the broker's alone.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "broker/metrics.h"
#include "spdlog/spdlog.h"
#include "tests/broker_harness.h"
#include "tests/forked_clients.h"

namespace latentbus::testing {
namespace {

constexpr int kAgents = 1000;
constexpr int kChannels = 10;
constexpr double kLimitBytes = 256.0 * 1024 * 1024;

// Child: opens kAgents registered streams to 127.0.0.1:port, reports, waits for EOF.
[[noreturn]] void RunClients(int port_fd, int ready_fd) {
  int port = 0;
  if (read(port_fd, &port, sizeof port) != sizeof port) _exit(2);
  const v1::ModelSpec spec = MakeSpec("smollm2", 576, 576);
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < kChannels; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("latentbus.test.channel", i);  // one connection per channel
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    channels.push_back(grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                                 grpc::InsecureChannelCredentials(), args));
  }
  struct Stream {
    grpc::ClientContext ctx;
    std::unique_ptr<grpc::ClientReaderWriter<v1::AgentFrame, v1::BrokerFrame>> rw;
  };
  std::vector<std::unique_ptr<Stream>> streams;
  for (int i = 0; i < kAgents; ++i) {
    auto s = std::make_unique<Stream>();
    auto stub = v1::Broker::NewStub(channels[i % kChannels]);
    s->rw = stub->Connect(&s->ctx);
    v1::AgentFrame frame;
    frame.mutable_register_()->set_agent_id(absl::StrCat("agent-", i));
    *frame.mutable_register_()->mutable_model() = spec;
    frame.mutable_register_()->add_topics("fleet");
    v1::BrokerFrame reply;
    if (!s->rw->Write(frame) || !s->rw->Read(&reply) || !reply.has_registered()) _exit(3);
    streams.push_back(std::move(s));
  }
  char one = 1;
  if (write(ready_fd, &one, 1) != 1) _exit(4);
  char buf;
  while (read(port_fd, &buf, 1) > 0) {
  }
  _exit(0);
}

TEST(BrokerMemoryTest, ThousandIdleAgentsUnder256MiB) {
  const ForkedClients child = ForkClients(RunClients);
  ASSERT_GE(child.pid, 0);

  spdlog::set_level(spdlog::level::warn);
  double before_start = broker::ResidentBytes();
  TestBroker broker;
  double idle = broker::ResidentBytes();
  int port = broker.server().port();
  ASSERT_EQ(write(child.to_child, &port, sizeof port), static_cast<ssize_t>(sizeof port));
  pollfd pfd{child.from_child, POLLIN, 0};
  ASSERT_EQ(poll(&pfd, 1, 120000), 1) << "clients did not connect in time";
  char ready = 0;
  ASSERT_EQ(read(child.from_child, &ready, 1), 1) << "client process failed";
  ASSERT_EQ(broker.broker().registry().size(), static_cast<size_t>(kAgents));
  double loaded = broker::ResidentBytes();
  std::printf(
      "broker RSS: process before broker %.1f MiB, idle broker %.1f MiB, "
      "with %d connected idle agents %.1f MiB (%.1f KiB per agent)\n",
      before_start / 1048576, idle / 1048576, kAgents, loaded / 1048576,
      (loaded - idle) / 1024 / kAgents);
  RecordProperty("rss_bytes_1000_agents", std::to_string(static_cast<long long>(loaded)));
  ASSERT_GT(idle, 1e6) << "could not read the resident set size";
  ASSERT_GT(loaded, idle);
  EXPECT_LT(loaded, kLimitBytes);
  close(child.to_child);
  int status = 0;
  waitpid(child.pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
}  // namespace latentbus::testing
