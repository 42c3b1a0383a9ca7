// Memory under a flood: clients trying to queue 1 GiB for consumers that never read
// (with a million delivery credits each) keep the broker within its byte budgets, and the
// memory comes back once those consumers have left and their retention has passed.
//
// The broker runs in this process; the clients run in a forked child (forked before gRPC
// starts here, hence a binary of its own) so the VmRSS read from /proc/self/status is
// the broker's alone.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "broker/metrics.h"
#include "spdlog/spdlog.h"
#include "tests/broker_harness.h"
#include "tests/forked_clients.h"

namespace latentbus::testing {
namespace {

constexpr int kSinks = 3;
constexpr int kBigMessages = 1024;  // 1 MiB each: 1 GiB offered
constexpr uint64_t kTotalBudget = uint64_t{128} << 20;

struct Counts {
  int accepted = 0;
  int queue_full = 0;
  int other = 0;
};

// Child: kSinks consumers that register with a million delivery credits and never read,
// and a producer that offers them kBigMessages messages of 1 MiB; reports the counts,
// then leaves (closes every stream) when the parent says so.
[[noreturn]] void RunFlood(int from_parent, int to_parent) {
  int port = 0;
  if (read(from_parent, &port, sizeof port) != sizeof port) _exit(2);
  auto channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
  auto stub = v1::Broker::NewStub(channel);
  struct Stream {
    grpc::ClientContext ctx;
    std::unique_ptr<grpc::ClientReaderWriter<v1::AgentFrame, v1::BrokerFrame>> rw;
  };
  auto open = [&](const std::string& id, uint32_t credits) {
    auto s = std::make_unique<Stream>();
    s->rw = stub->Connect(&s->ctx);
    v1::AgentFrame frame;
    frame.mutable_register_()->set_agent_id(id);
    frame.mutable_register_()->set_initial_credits(credits);
    v1::BrokerFrame reply;
    if (!s->rw->Write(frame) || !s->rw->Read(&reply) || !reply.has_registered()) _exit(3);
    return s;
  };
  std::vector<std::unique_ptr<Stream>> sinks;
  for (int i = 0; i < kSinks; ++i) sinks.push_back(open(absl::StrCat("sink-", i), 1000000));
  auto producer = open("producer", 0);
  Counts counts;
  const std::string payload(1 << 20, 'x');
  for (int i = 0; i < kBigMessages; ++i) {
    v1::AgentFrame frame;
    frame.set_seq(static_cast<uint64_t>(i) + 1);
    v1::Envelope* e = frame.mutable_send()->mutable_envelope();
    e->set_message_id(absl::StrCat("m", i));
    e->mutable_recipient()->set_agent_id(absl::StrCat("sink-", i % kSinks));
    e->set_text(payload);
    if (!producer->rw->Write(frame)) _exit(4);
    v1::BrokerFrame answer;
    for (;;) {
      if (!producer->rw->Read(&answer)) _exit(5);
      if (answer.has_send_result()) {
        ++counts.accepted;
        break;
      }
      if (answer.has_error()) {
        ++(answer.error().reason() == v1::QUEUE_FULL ? counts.queue_full : counts.other);
        break;
      }
    }
  }
  if (write(to_parent, &counts, sizeof counts) != sizeof counts) _exit(6);
  char go;
  if (read(from_parent, &go, 1) != 1) _exit(7);
  for (auto& s : sinks) s->ctx.TryCancel();
  producer->ctx.TryCancel();
  sinks.clear();
  producer.reset();
  _exit(0);
}

TEST(BrokerMemoryTest, QueuesStayWithinTheirByteBudgetsAndMemoryComesBack) {
  const ForkedClients child = ForkClients(RunFlood);
  ASSERT_GE(child.pid, 0);

  spdlog::set_level(spdlog::level::warn);
  broker::BrokerConfig config = TestConfig();
  config.limits.max_message_bytes = 2u << 20;
  config.limits.max_queue_bytes = 64u << 20;
  config.limits.max_total_queue_bytes = kTotalBudget;
  config.limits.absent_retention_seconds = 1;
  config.limits.max_queue_depth = 100000;
  TestBroker broker(config);
  const double idle = broker::ResidentBytes();
  int port = broker.server().port();
  ASSERT_EQ(write(child.to_child, &port, sizeof port), static_cast<ssize_t>(sizeof port));
  pollfd pfd{child.from_child, POLLIN, 0};
  ASSERT_EQ(poll(&pfd, 1, 300000), 1) << "the flood did not finish in time";
  Counts counts;
  ASSERT_EQ(read(child.from_child, &counts, sizeof counts), static_cast<ssize_t>(sizeof counts))
      << "client process failed";
  const double flooded = broker::ResidentBytes();
  std::printf(
      "broker RSS: idle %.1f MiB, with %d of %d 1 MiB messages queued for %d consumers that "
      "never read %.1f MiB (%d refused QUEUE_FULL)\n",
      idle / 1048576, counts.accepted, kBigMessages, kSinks, flooded / 1048576, counts.queue_full);
  EXPECT_EQ(counts.other, 0);
  EXPECT_GT(counts.queue_full, 0);
  EXPECT_EQ(counts.accepted + counts.queue_full, kBigMessages);
  EXPECT_LE(uint64_t(counts.accepted) << 20, kTotalBudget);  // the total budget held
  // One copy of what is queued (a stream that does not read is Backlogged after 1 MiB of
  // unwritten frames, so deliveries are not copied into its outbox), plus buffers.
  EXPECT_LT(flooded - idle, 1.0 * kTotalBudget + (48 << 20)) << "RSS grew past the budget";

  const char go = 1;
  ASSERT_EQ(write(child.to_child, &go, 1), 1);
  int status = 0;
  waitpid(child.pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  // Absent for longer than the retention: released, counted, and the memory returned.
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (!broker.broker().delivery().Stats().empty() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_TRUE(broker.broker().delivery().Stats().empty());
  absl::SleepFor(absl::Milliseconds(600));  // one more sweep: malloc_trim after the release
  const double after = broker::ResidentBytes();
  std::printf("broker RSS after the consumers left and their queues were released: %.1f MiB\n",
              after / 1048576);
  EXPECT_GE(broker.broker().metrics().CounterValue("latentbus_released_recipients_total"), 3);
  EXPECT_LT(after - idle, 48.0 * 1048576) << "memory did not come back";
  const std::string text = broker.broker().metrics().RenderPrometheus();
  EXPECT_EQ(text.find("sink-"), std::string::npos) << "released agents still labelled";
}

}  // namespace
}  // namespace latentbus::testing
