#include "a2a/task_json.h"

#include "gtest/gtest.h"

namespace latentbus::a2a {
namespace {

using nlohmann::json;

json Params(json message) { return {{"message", std::move(message)}}; }

TEST(TaskJsonTest, SendParamsTakeTextPartsAndBusMetadata) {
  RpcError error;
  std::optional<SendParams> p = ParseSendParams(
      {{"message",
        {{"messageId", "m1"},
         {"contextId", "c1"},
         {"role", "ROLE_USER"},
         {"parts", json::array({{{"text", "line one"}}, {{"text", "line two"}}})},
         {"metadata", {{"latentbus.messageClass", "instruction"}}}}},
       {"configuration", {{"returnImmediately", true}, {"historyLength", 1}}},
       {"metadata", {{"latentbus.timeoutSeconds", 2.5}, {"latentbus.messageClass", "result"}}}},
      &error);
  ASSERT_TRUE(p.has_value()) << error.message;
  EXPECT_EQ(p->text, "line one\nline two");
  EXPECT_EQ(p->message_class, "instruction");  // the message's metadata first
  EXPECT_EQ(p->timeout_seconds, 2.5);
  EXPECT_TRUE(p->return_immediately);
  EXPECT_EQ(p->history_length, 1);
  EXPECT_EQ(p->context_id, "c1");
}

TEST(TaskJsonTest, UnusableSendParamsSayWhy) {
  RpcError error;
  EXPECT_FALSE(ParseSendParams(json::object(), &error));
  EXPECT_EQ(error.code, kInvalidParams);
  EXPECT_FALSE(
      ParseSendParams(Params({{"parts", json::array({{{"url", "http://x/f.pdf"}}})}}), &error));
  EXPECT_EQ(error.code, kContentTypeNotSupported);
  EXPECT_FALSE(ParseSendParams(Params({{"parts", json::array()}}), &error));
  EXPECT_EQ(error.code, kInvalidParams);
  EXPECT_FALSE(ParseSendParams(
      Params({{"taskId", "t0"}, {"parts", json::array({{{"text", "more"}}})}}), &error));
  EXPECT_EQ(error.code, kInvalidParams);
  EXPECT_FALSE(ParseSendParams(
      Params({{"role", "ROLE_AGENT"}, {"parts", json::array({{{"text", "x"}}})}}), &error));
  EXPECT_FALSE(ParseSendParams(Params({{"parts", json::array({{{"text", "x"}}})},
                                       {"metadata", {{"latentbus.timeoutSeconds", "soon"}}}}),
                               &error));
  EXPECT_EQ(error.code, kInvalidParams);
  EXPECT_NE(error.message.find("latentbus.timeoutSeconds"), std::string::npos);
}

Task Completed() {
  Task t;
  t.id = "t1";
  t.context_id = "c1";
  t.target = "alice";
  t.request_json = R"({"messageId":"m1","role":"ROLE_USER","parts":[{"text":"hi"}]})";
  t.state = TaskState::kCompleted;
  t.updated_at = absl::FromUnixMillis(1000);
  t.replies.push_back({"r1", "alice", "latent", "hello back"});
  t.events = {
      {TaskEvent::Kind::kStatus, 0}, {TaskEvent::Kind::kReply, 0}, {TaskEvent::Kind::kStatus, 0}};
  return t;
}

TEST(TaskJsonTest, ATaskCarriesHistoryArtifactsAndTheReplyAsItsStatusMessage) {
  const json t = TaskJson(Completed());
  EXPECT_EQ(t["id"], "t1");
  EXPECT_EQ(t["contextId"], "c1");
  EXPECT_EQ(t["status"]["state"], "TASK_STATE_COMPLETED");
  EXPECT_EQ(t["status"]["timestamp"], "1970-01-01T00:00:01.000Z");
  EXPECT_EQ(t["status"]["message"]["role"], "ROLE_AGENT");
  EXPECT_EQ(t["status"]["message"]["parts"][0]["text"], "hello back");
  ASSERT_EQ(t["history"].size(), 2u);
  EXPECT_EQ(t["history"][0]["taskId"], "t1");
  EXPECT_EQ(t["history"][0]["parts"][0]["text"], "hi");
  EXPECT_EQ(t["artifacts"][0]["artifactId"], "reply-1");
  EXPECT_EQ(t["artifacts"][0]["metadata"]["latentbus.form"], "latent");
  EXPECT_EQ(TaskJson(Completed(), 1)["history"].size(), 1u);
  EXPECT_EQ(TaskJson(Completed(), 0)["history"].size(), 0u);
}

TEST(TaskJsonTest, StreamEventsAreArtifactAndStatusUpdates) {
  const Task t = Completed();
  const json reply = StreamEventJson(t, t.events[1]);
  EXPECT_EQ(reply["artifactUpdate"]["taskId"], "t1");
  EXPECT_EQ(reply["artifactUpdate"]["artifact"]["parts"][0]["text"], "hello back");
  const json status = StreamEventJson(t, t.events[2]);
  EXPECT_EQ(status["statusUpdate"]["status"]["state"], "TASK_STATE_COMPLETED");
}

}  // namespace
}  // namespace latentbus::a2a
