// Memory under a flood of frames the broker answers, from an agent that never reads the
// answers: each empty frame (5 bytes on the wire) earns an Error frame, which waited in
// the stream's outbox for good. The broker stops reading a stream whose outbox is over
// its budget, so the flood stalls in the sender's own transport instead.
//
// The broker runs in this process, the agent in a forked child (forked before gRPC
// starts here, hence a binary of its own) so that VmRSS counts the broker alone.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "broker/metrics.h"
#include "spdlog/spdlog.h"
#include "tests/broker_harness.h"
#include "tests/forked_clients.h"

namespace latentbus::testing {
namespace {

constexpr int64_t kFrames = 2000000;  // far more than a paused stream lets through

// Child: registers, then writes empty frames from a second thread without ever reading
// again; when the parent asks, reports how many writes went through and leaves.
[[noreturn]] void RunMute(int from_parent, int to_parent) {
  int port = 0;
  if (read(from_parent, &port, sizeof port) != sizeof port) _exit(2);
  auto channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
  auto stub = v1::Broker::NewStub(channel);
  grpc::ClientContext ctx;
  auto rw = stub->Connect(&ctx);
  v1::AgentFrame reg;
  reg.mutable_register_()->set_agent_id("mute");
  v1::BrokerFrame reply;
  if (!rw->Write(reg) || !rw->Read(&reply) || !reply.has_registered()) _exit(3);
  std::atomic<int64_t> written{0};
  std::thread writer([&] {
    const v1::AgentFrame empty;
    for (int64_t i = 0; i < kFrames && rw->Write(empty); ++i) written.fetch_add(1);
  });
  char go;
  if (read(from_parent, &go, 1) != 1) _exit(4);
  const int64_t count = written.load();
  if (write(to_parent, &count, sizeof count) != sizeof count) _exit(5);
  _exit(0);  // the writer may be blocked in Write: leave without joining it
}

TEST(BrokerMemoryTest, AnAgentThatSendsWithoutReadingCannotGrowTheOutbox) {
  const ForkedClients child = ForkClients(RunMute);
  ASSERT_GE(child.pid, 0);

  spdlog::set_level(spdlog::level::off);  // a refusal per frame
  TestBroker broker(TestConfig());
  const double idle = broker::ResidentBytes();
  int port = broker.server().port();
  ASSERT_EQ(write(child.to_child, &port, sizeof port), static_cast<ssize_t>(sizeof port));
  absl::SleepFor(absl::Seconds(8));
  const double flooded = broker::ResidentBytes();
  const char go = 1;
  ASSERT_EQ(write(child.to_child, &go, 1), 1);
  int64_t written = 0;
  pollfd pfd{child.from_child, POLLIN, 0};
  ASSERT_EQ(poll(&pfd, 1, 30000), 1);
  ASSERT_EQ(read(child.from_child, &written, sizeof written), static_cast<ssize_t>(sizeof written));
  int status = 0;
  waitpid(child.pid, &status, 0);
  const double pauses = broker.broker().metrics().CounterValue("latentbus_read_pauses_total");
  std::printf(
      "broker RSS: idle %.1f MiB, after 8 s of empty frames from an agent that never reads "
      "%.1f MiB (%lld frames written, %.0f read pauses)\n",
      idle / 1048576, flooded / 1048576, static_cast<long long>(written), pauses);
  EXPECT_GE(pauses, 1);
  EXPECT_LT(written, kFrames) << "the flood never stalled";
  EXPECT_LT(flooded - idle, 48.0 * 1048576) << "the unread answers grew the broker";
}

}  // namespace
}  // namespace latentbus::testing
