#include "a2a/agent_cards.h"

#include "gtest/gtest.h"

namespace latentbus::a2a {
namespace {

TEST(AgentCardsTest, PathSegmentsArePercentEncoded) {
  EXPECT_EQ(PercentEncode("planner-1.a_b~"), "planner-1.a_b~");
  EXPECT_EQ(PercentEncode("a b/c?"), "a%20b%2Fc%3F");
  CardSettings s{"http://gw:8480", false, "1.0"};
  EXPECT_EQ(AgentUrl(s, "x/y"), "http://gw:8480/agents/x%2Fy");
  EXPECT_EQ(TopicUrl(s, "news"), "http://gw:8480/topics/news");
}

TEST(AgentCardsTest, AnAgentsCardNamesItsModelInterfaceSkillsAndScheme) {
  v1::AgentInfo agent;
  agent.set_agent_id("reader");
  agent.set_connected(true);
  agent.mutable_model()->set_model_id("SmolLM2-135M-Instruct");
  agent.mutable_model()->set_family("llama");
  agent.mutable_model()->set_hidden_size(576);
  const nlohmann::json card = AgentCard(agent, {"http://gw:8480", true, "0.9.0"});
  EXPECT_EQ(card["name"], "reader");
  EXPECT_NE(card["description"].get<std::string>().find("SmolLM2-135M-Instruct"),
            std::string::npos);
  EXPECT_EQ(card["supportedInterfaces"][0]["url"], "http://gw:8480/agents/reader");
  EXPECT_EQ(card["supportedInterfaces"][0]["protocolBinding"], "JSONRPC");
  EXPECT_EQ(card["supportedInterfaces"][0]["protocolVersion"], "1.0");
  EXPECT_EQ(card["capabilities"]["streaming"], true);
  EXPECT_EQ(card["skills"].size(), 5u);
  EXPECT_EQ(card["securitySchemes"]["bearer"]["httpAuthSecurityScheme"]["scheme"], "Bearer");
  EXPECT_TRUE(card["securityRequirements"][0]["schemes"].contains("bearer"));

  agent.clear_model();
  const nlohmann::json text = AgentCard(agent, {"http://gw:8480", false, "0.9.0"});
  EXPECT_NE(text["description"].get<std::string>().find("text agent"), std::string::npos);
  EXPECT_FALSE(text.contains("securitySchemes"));
}

TEST(AgentCardsTest, ATopicIsOneAgentThatFansOut) {
  const nlohmann::json card = TopicCard("news", 3, {"http://gw:8480", false, "0.9.0"});
  EXPECT_EQ(card["name"], "topic:news");
  EXPECT_NE(card["description"].get<std::string>().find("3 subscriber(s)"), std::string::npos);
  EXPECT_EQ(card["supportedInterfaces"][0]["url"], "http://gw:8480/topics/news");
}

}  // namespace
}  // namespace latentbus::a2a
