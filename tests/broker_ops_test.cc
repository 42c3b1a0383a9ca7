// Operations of a real broker: health checking, graceful drain, Prometheus metrics.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "grpcpp/generic/generic_stub.h"
#include "httplib.h"
#include "tests/broker_harness.h"

namespace latentbus::testing {
namespace {

using v1::BrokerFrame;

const v1::ModelSpec kSpec = MakeSpec("smollm2", 64, 48);

// grpc.health.v1.Health/Check for service "": 1 SERVING, 2 NOT_SERVING, -1 on error.
// The messages are tiny enough to encode by hand (field 1 varint).
int HealthStatus(const std::shared_ptr<grpc::Channel>& channel) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::ByteBuffer request;  // empty HealthCheckRequest
  grpc::Slice empty("");
  request = grpc::ByteBuffer(&empty, 1);
  grpc::ByteBuffer response;
  absl::Notification done;
  grpc::Status status;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) {
                   status = s;
                   done.Notify();
                 });
  done.WaitForNotification();
  if (!status.ok()) return -1;
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return -1;
  std::string bytes;
  for (const grpc::Slice& s : slices)
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  if (bytes.size() != 2 || bytes[0] != 0x08) return -1;
  return bytes[1];
}

TEST(BrokerOpsTest, ServerReflectionListsTheBrokerService) {
  TestBroker broker;
  std::string services = ReflectionListServices(broker.Channel());
  EXPECT_NE(services.find("latentbus.v1.Broker"), std::string::npos);
  EXPECT_NE(services.find("grpc.health.v1.Health"), std::string::npos);
}

TEST(BrokerOpsTest, HealthIsServing) {
  TestBroker broker;
  EXPECT_EQ(HealthStatus(broker.Channel()), 1);
}

TEST(BrokerOpsTest, DrainSendsGoAwayRefusesSendsFlushesThenStops) {
  TestBroker broker;
  auto health_channel = broker.Channel();
  ASSERT_EQ(HealthStatus(health_channel), 1);
  TestAgent a(broker.Channel()), b(broker.Channel());
  ASSERT_TRUE(a.Register("alice", kSpec).ok());
  ASSERT_TRUE(b.Register("bob", kSpec).ok());
  a.Send(ToAgent("m1", "bob", "in flight at drain"));
  ASSERT_TRUE(a.NextOf(BrokerFrame::kSendResult));
  std::optional<BrokerFrame> d = b.NextOf(BrokerFrame::kDeliver);
  ASSERT_TRUE(d);  // delivered, not yet acked: the drain waits for it

  absl::Notification drained;
  absl::Time start = absl::Now();
  std::thread drainer([&] {
    broker.server().Drain(absl::Seconds(20));
    drained.Notify();
  });
  ASSERT_TRUE(a.NextOf(BrokerFrame::kGoAway));
  ASSERT_TRUE(b.NextOf(BrokerFrame::kGoAway));
  EXPECT_EQ(HealthStatus(health_channel), 2);
  a.Send(ToAgent("m2", "bob", "too late"));
  std::optional<BrokerFrame> e = a.NextOf(BrokerFrame::kError);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->error().reason(), v1::DRAINING);
  EXPECT_FALSE(drained.HasBeenNotified());  // m1 is still unacked
  b.Ack("alice", "m1");
  EXPECT_TRUE(drained.WaitForNotificationWithTimeout(absl::Seconds(15)));
  drainer.join();
  EXPECT_LT(absl::Now() - start, absl::Seconds(15));  // finished by flushing, not timing out
  EXPECT_NE(a.AwaitEnd().error_code(), grpc::StatusCode::UNKNOWN);  // stream ended
  EXPECT_NE(b.AwaitEnd().error_code(), grpc::StatusCode::UNKNOWN);
}

// The plaintext health-only port (for kubelet probes when the main port is TLS): same
// status as the main port, NOT_SERVING during a drain, and no Broker service on it.
TEST(BrokerOpsTest, HealthOnlyPortFollowsMainHealthAndServesNothingElse) {
  broker::BrokerConfig config = TestConfig();
  config.health_address = "127.0.0.1:0";
  TestBroker broker(config);
  const int health_port = broker.server().health_port();
  ASSERT_GT(health_port, 0);
  ASSERT_NE(health_port, broker.server().port());
  auto health_channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", health_port),
                                            grpc::InsecureChannelCredentials());
  EXPECT_EQ(HealthStatus(health_channel), 1);
  {
    v1::Broker::Stub stub(health_channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::ListAgentsResponse response;
    EXPECT_EQ(stub.ListAgents(&ctx, v1::ListAgentsRequest(), &response).error_code(),
              grpc::StatusCode::UNIMPLEMENTED);
  }
  // Hold the drain open with an unacked delivery, as above.
  TestAgent a(broker.Channel()), b(broker.Channel());
  ASSERT_TRUE(a.Register("alice", kSpec).ok());
  ASSERT_TRUE(b.Register("bob", kSpec).ok());
  a.Send(ToAgent("m1", "bob", "held"));
  ASSERT_TRUE(b.NextOf(BrokerFrame::kDeliver));
  std::thread drainer([&] { broker.server().Drain(absl::Seconds(20)); });
  ASSERT_TRUE(b.NextOf(BrokerFrame::kGoAway));
  EXPECT_EQ(HealthStatus(health_channel), 2);
  b.Ack("alice", "m1");
  drainer.join();
  EXPECT_EQ(HealthStatus(health_channel), -1);  // shut down with the broker
}

TEST(BrokerOpsTest, DrainGivesUpAfterTimeout) {
  TestBroker broker;
  TestAgent a(broker.Channel()), b(broker.Channel());
  ASSERT_TRUE(a.Register("alice", kSpec).ok());
  ASSERT_TRUE(b.Register("bob", kSpec).ok());
  a.Send(ToAgent("m1", "bob", "never acked"));
  ASSERT_TRUE(b.NextOf(BrokerFrame::kDeliver));
  absl::Time start = absl::Now();
  broker.server().Drain(absl::Milliseconds(300));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(300));
  EXPECT_NE(b.AwaitEnd().error_code(), grpc::StatusCode::UNKNOWN);
}

TEST(BrokerOpsTest, PrometheusEndpointServesCountersGaugesHistograms) {
  broker::BrokerConfig config = TestConfig();
  config.metrics_address = "127.0.0.1:0";
  TestBroker broker(config);
  ASSERT_GT(broker.server().metrics_port(), 0);
  TestAgent a(broker.Channel()), b(broker.Channel());
  ASSERT_TRUE(a.Register("alice", kSpec).ok());
  ASSERT_TRUE(b.Register("bob", kSpec).ok());
  a.Send(ToAgent("m1", "bob", "x"));
  ASSERT_TRUE(b.NextOf(BrokerFrame::kDeliver));
  httplib::Client client("127.0.0.1", broker.server().metrics_port());
  httplib::Result res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  const std::string& body = res->body;
  EXPECT_NE(body.find("latentbus_messages_total{class=\"context\",encoding=\"text\"} 1"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("latentbus_connected_agents 2"), std::string::npos);
  EXPECT_NE(body.find("latentbus_unacked{agent=\"bob\"} 1"), std::string::npos);
  EXPECT_NE(body.find("# TYPE latentbus_residence_seconds histogram"), std::string::npos);
  EXPECT_NE(body.find("latentbus_residence_seconds_count 1"), std::string::npos);
}

// A raw TCP connection to 127.0.0.1:port that sends nothing (-1 on failure).
int IdleConnection(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  return fd;
}

TEST(BrokerOpsTest, IdleConnectionsDoNotStarveAScrape) {
  broker::BrokerConfig config = TestConfig();
  config.metrics_address = "127.0.0.1:0";
  TestBroker broker(config);
  const int port = broker.server().metrics_port();
  std::vector<int> idle;
  for (int i = 0; i < 100; ++i) {
    const int fd = IdleConnection(port);
    ASSERT_GE(fd, 0);
    idle.push_back(fd);
  }
  // A thread-pool server once held a worker per idle connection for its read timeout:
  // with 100 of them a scrape waited about a minute.
  const absl::Time start = absl::Now();
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(20, 0);
  httplib::Result res = client.Get("/metrics");
  const absl::Duration took = absl::Now() - start;
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("latentbus_connected_agents"), std::string::npos);
  EXPECT_LT(took, absl::Seconds(2));
  for (int fd : idle) close(fd);
  // Other paths and methods get an answer, not a hang.
  EXPECT_EQ(client.Get("/")->status, 404);
  EXPECT_EQ(client.Post("/metrics", "", "text/plain")->status, 405);
}

TEST(BrokerOpsTest, MetricsCanRequireAToken) {
  broker::BrokerConfig config = TestConfig();
  config.metrics_address = "127.0.0.1:0";
  config.metrics_auth = true;
  broker::TokenConfig agent;
  agent.name = "agents";
  agent.token = "agent-secret";
  agent.agents = agent.publish = agent.subscribe = {"*"};
  broker::TokenConfig prometheus;
  prometheus.name = "prometheus";
  prometheus.token = "scrape-secret";
  prometheus.metrics = true;
  config.tokens = {agent, prometheus};
  TestBroker broker(config);
  httplib::Client client("127.0.0.1", broker.server().metrics_port());
  EXPECT_EQ(client.Get("/metrics")->status, 401);
  EXPECT_EQ(client.Get("/metrics", {{"Authorization", "Bearer agent-secret"}})->status, 401);
  httplib::Result ok = client.Get("/metrics", {{"Authorization", "Bearer scrape-secret"}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_NE(ok->body.find("latentbus_connected_agents"), std::string::npos);
}

TEST(BrokerOpsTest, APortInUseIsAnErrorNotAShare) {
  broker::BrokerConfig config = TestConfig();
  config.metrics_address = "127.0.0.1:0";
  TestBroker first(config);
  broker::BrokerConfig same = config;
  same.listen_address = first.address();
  broker::BrokerOptions options;
  options.config = same;
  absl::StatusOr<std::unique_ptr<broker::BrokerServer>> second =
      broker::BrokerServer::Start(std::move(options));
  ASSERT_FALSE(second.ok()) << "a second broker shares " << first.address();
  EXPECT_NE(second.status().message().find("cannot listen"), std::string::npos) << second.status();
  broker::BrokerConfig metrics_taken = config;
  metrics_taken.metrics_address = absl::StrCat("127.0.0.1:", first.server().metrics_port());
  broker::BrokerOptions options2;
  options2.config = metrics_taken;
  second = broker::BrokerServer::Start(std::move(options2));
  ASSERT_FALSE(second.ok()) << "a second broker shares the metrics port";
  EXPECT_NE(second.status().message().find("metrics address"), std::string::npos)
      << second.status();
}

}  // namespace
}  // namespace latentbus::testing
