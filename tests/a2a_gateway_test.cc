// The A2A gateway over a real broker on loopback, seen by a plain HTTP client: the
// JSON-RPC binding's edges (errors, limits, server-sent events, stop with a stream open)
// that the A2A SDK's own client does not reach. sdk/python/tests/test_a2a_gateway.py runs
// the A2A SDK against the CLI's gateway.
#include <atomic>
#include <string>
#include <thread>

#include "a2a/gateway.h"
#include "agent/client/client.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "tests/broker_harness.h"

namespace latentbus {
namespace {

using nlohmann::json;

class A2aGatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    agent::ClientOptions o;
    o.address = broker_.address();
    o.agent_id = "echo";
    absl::StatusOr<std::unique_ptr<agent::Client>> echo = agent::Client::Connect(o);
    ASSERT_TRUE(echo.ok()) << echo.status();
    echo_ = *std::move(echo);
    serving_ = std::thread([this] {
      (void)echo_->Serve([this](const v1::Envelope& e) {
        {
          absl::MutexLock lock(&seen_mu_);
          seen_traceparent_ = e.traceparent();
        }
        if (e.text() == "stay silent" || !e.expects_reply()) return;
        v1::Envelope reply;
        reply.set_text("echo: " + e.text());
        (void)echo_->Reply(e, reply);
      });
    });
    a2a::GatewayOptions g;
    g.listen = "127.0.0.1:0";
    g.bus.address = broker_.address();
    g.max_request_bytes = 64 << 10;
    absl::StatusOr<std::unique_ptr<a2a::Gateway>> gateway = a2a::Gateway::Start(g);
    ASSERT_TRUE(gateway.ok()) << gateway.status();
    gateway_ = *std::move(gateway);
    http_ = std::make_unique<httplib::Client>("127.0.0.1", gateway_->port());
    http_->set_read_timeout(30, 0);
  }

  void TearDown() override {
    if (gateway_) gateway_->Stop();
    if (echo_) echo_->Close();
    if (serving_.joinable()) serving_.join();
  }

  // POSTs a JSON-RPC call to the echo agent; the parsed answer (null when the status is not 200).
  json Call(const std::string& method, json params, int* http_status = nullptr) {
    const json body = {{"jsonrpc", "2.0"}, {"id", 1}, {"method", method}, {"params", params}};
    auto res =
        http_->Post("/agents/echo", {{"A2A-Version", "1.0"}}, body.dump(), "application/json");
    if (!res) return nullptr;
    if (http_status) *http_status = res->status;
    return json::parse(res->body, nullptr, false);
  }

  static json Message(const std::string& text) {
    return {
        {"message", {{"messageId", "m1"}, {"role", "ROLE_USER"}, {"parts", {{{"text", text}}}}}}};
  }

  std::string SeenTraceparent() {
    absl::MutexLock lock(&seen_mu_);
    return seen_traceparent_;
  }

  absl::Mutex seen_mu_;
  std::string seen_traceparent_ ABSL_GUARDED_BY(seen_mu_);
  testing::TestBroker broker_;
  std::unique_ptr<agent::Client> echo_;
  std::thread serving_;
  std::unique_ptr<a2a::Gateway> gateway_;
  std::unique_ptr<httplib::Client> http_;
};

TEST_F(A2aGatewayTest, SendMessageWaitsForTheReply) {
  const json answer = Call("SendMessage", Message("ping"));
  ASSERT_TRUE(answer.contains("result")) << answer.dump();
  const json& task = answer["result"]["task"];
  EXPECT_EQ(task["status"]["state"], "TASK_STATE_COMPLETED");
  EXPECT_EQ(task["artifacts"][0]["parts"][0]["text"], "echo: ping");
  EXPECT_EQ(task["artifacts"][0]["metadata"]["latentbus.sender"], "echo");

  const json again = Call("GetTask", {{"id", task["id"]}, {"historyLength", 1}});
  EXPECT_EQ(again["result"]["id"], task["id"]);
  EXPECT_EQ(again["result"]["history"].size(), 1u);
}

TEST_F(A2aGatewayTest, TheCallersTraceContextTravelsWithTheMessage) {
  const std::string traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const json body = {
      {"jsonrpc", "2.0"}, {"id", 1}, {"method", "SendMessage"}, {"params", Message("traced")}};
  auto res = http_->Post("/agents/echo", {{"A2A-Version", "1.0"}, {"traceparent", traceparent}},
                         body.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(json::parse(res->body)["result"]["task"]["status"]["state"], "TASK_STATE_COMPLETED");
  EXPECT_EQ(SeenTraceparent(), traceparent);
  // A malformed one is not passed on.
  res = http_->Post("/agents/echo", {{"A2A-Version", "1.0"}, {"traceparent", "00-zz-zz-01"}},
                    body.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(SeenTraceparent(), "");
}

TEST_F(A2aGatewayTest, TheProtocolsErrorsComeWithTheirCodes) {
  EXPECT_EQ(Call("NoSuchMethod", json::object())["error"]["code"], -32601);
  EXPECT_EQ(Call("CreateTaskPushNotificationConfig", json::object())["error"]["code"], -32003);
  EXPECT_EQ(Call("GetExtendedAgentCard", json::object())["error"]["code"], -32007);
  EXPECT_EQ(Call("GetTask", json::object())["error"]["code"], -32602);
  EXPECT_EQ(Call("GetTask", {{"id", "nope"}})["error"]["code"], -32001);
  json file = Message("x");
  file["message"]["parts"] = {{{"url", "https://example.com/report.pdf"}}};
  EXPECT_EQ(Call("SendMessage", file)["error"]["code"], -32005);
  json bad_class = Message("x");
  bad_class["message"]["metadata"] = {{"latentbus.messageClass", "gossip"}};
  const json refused = Call("SendMessage", bad_class);
  EXPECT_EQ(refused["error"]["code"], -32602) << refused.dump();
  EXPECT_NE(refused["error"]["message"].get<std::string>().find("gossip"), std::string::npos);
}

TEST_F(A2aGatewayTest, AnAgentThatIsNotThereFailsTheTask) {
  const json body = {
      {"jsonrpc", "2.0"}, {"id", "a"}, {"method", "SendMessage"}, {"params", Message("anyone?")}};
  auto res =
      http_->Post("/agents/nobody", {{"A2A-Version", "1.0"}}, body.dump(), "application/json");
  ASSERT_TRUE(res);
  const json answer = json::parse(res->body);
  EXPECT_EQ(answer["result"]["task"]["status"]["state"], "TASK_STATE_FAILED") << res->body;
  EXPECT_NE(
      answer["result"]["task"]["status"]["message"]["parts"][0]["text"].get<std::string>().find(
          "refused"),
      std::string::npos);
  EXPECT_EQ(http_->Get("/agents/nobody/.well-known/agent-card.json")->status, 404);
}

TEST_F(A2aGatewayTest, OversizeBodiesAreRefusedBeforeParsing) {
  auto res = http_->Post("/agents/echo", {{"A2A-Version", "1.0"}}, std::string(128 << 10, ' '),
                         "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
}

TEST_F(A2aGatewayTest, AStreamIsServerSentEventsEndingWithTheStatus) {
  const json body = {{"jsonrpc", "2.0"},
                     {"id", 7},
                     {"method", "SendStreamingMessage"},
                     {"params", Message("stream me")}};
  auto res = http_->Post("/agents/echo", {{"A2A-Version", "1.0"}, {"Accept", "text/event-stream"}},
                         body.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/event-stream");
  std::vector<json> events;
  for (size_t at = 0; (at = res->body.find("data: ", at)) != std::string::npos;) {
    const size_t end = res->body.find("\n\n", at);
    events.push_back(json::parse(res->body.substr(at + 6, end - at - 6)));
    at = end;
  }
  ASSERT_EQ(events.size(), 3u) << res->body;
  EXPECT_EQ(events[0]["id"], 7);
  EXPECT_TRUE(events[0]["result"].contains("task"));
  EXPECT_EQ(events[1]["result"]["artifactUpdate"]["artifact"]["parts"][0]["text"],
            "echo: stream me");
  EXPECT_EQ(events[2]["result"]["statusUpdate"]["status"]["state"], "TASK_STATE_COMPLETED");
}

TEST_F(A2aGatewayTest, ABrokerWithoutTokensNeedsNoneFromCallers) {
  // The gateway was given a token, but the broker has none configured: callers need none.
  a2a::GatewayOptions g;
  g.listen = "127.0.0.1:0";
  g.bus.address = broker_.address();
  g.bus.token = "not-needed";
  g.id_prefix = "a2a-second";
  absl::StatusOr<std::unique_ptr<a2a::Gateway>> second = a2a::Gateway::Start(g);
  ASSERT_TRUE(second.ok()) << second.status();
  httplib::Client c("127.0.0.1", (*second)->port());
  auto cards = c.Get("/cards");
  ASSERT_TRUE(cards);
  const json listed = json::parse(cards->body);
  // echo; both gateways' clients (a2a-anonymous, a2a-second-...) left out.
  ASSERT_EQ(listed["agents"].size(), 1u) << cards->body;
  EXPECT_FALSE(listed["agents"][0].contains("securitySchemes"));
  const json body = {
      {"jsonrpc", "2.0"}, {"id", 1}, {"method", "SendMessage"}, {"params", Message("no token")}};
  auto res = c.Post("/agents/echo", {{"A2A-Version", "1.0"}}, body.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  // The scheme's case does not matter (as for the broker); a header that is no bearer token
  // is refused.
  res = c.Post("/agents/echo", {{"A2A-Version", "1.0"}, {"Authorization", "bearer  any "}},
               body.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  res = c.Post("/agents/echo", {{"A2A-Version", "1.0"}, {"Authorization", "Basic dTpw"}},
               body.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  res = c.Post("/agents/echo", {{"A2A-Version", "1.0"}}, body.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(json::parse(res->body)["result"]["task"]["status"]["state"], "TASK_STATE_COMPLETED");
}

TEST_F(A2aGatewayTest, StopEndsAnOpenStream) {
  std::atomic<bool> ended{false};
  std::thread reader([&] {
    httplib::Client c("127.0.0.1", gateway_->port());
    c.set_read_timeout(60, 0);
    const json body = {{"jsonrpc", "2.0"},
                       {"id", 1},
                       {"method", "SendStreamingMessage"},
                       {"params", Message("stay silent")}};
    (void)c.Post("/agents/echo", {{"A2A-Version", "1.0"}}, body.dump(), "application/json");
    ended = true;
  });
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_FALSE(ended);  // the task waits for a reply that will not come (60 s deadline)
  const absl::Time start = absl::Now();
  gateway_->Stop();
  reader.join();
  EXPECT_TRUE(ended);
  EXPECT_LT(absl::Now() - start, absl::Seconds(20));  // not the task's 60 s deadline
}

}  // namespace
}  // namespace latentbus
