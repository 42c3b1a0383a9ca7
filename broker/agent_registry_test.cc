#include "broker/agent_registry.h"

#include <gtest/gtest.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "broker/errors.h"

namespace latentbus::broker {
namespace {

// The registry only stores sessions and hands them back; it never calls them.
class IdleSession final : public AgentSession {
 public:
  bool Push(v1::BrokerFrame) override { return true; }
  void End(const absl::Status&) override {}
};

std::shared_ptr<const v1::ModelSpec> Model(const std::string& id, const std::string& fingerprint) {
  auto spec = std::make_shared<v1::ModelSpec>();
  spec->set_model_id(id);
  spec->set_fingerprint(fingerprint);
  return spec;
}

std::vector<std::string> Ids(const std::vector<AgentRecord>& records) {
  std::vector<std::string> ids;
  for (const AgentRecord& r : records) ids.push_back(r.agent_id);
  return ids;
}

using Strings = std::vector<std::string>;
const absl::Time kT0 = absl::FromUnixSeconds(1000);

TEST(AgentRegistryTest, RegisterThenFindReturnsTheRecord) {
  AgentRegistry registry;
  auto session = std::make_shared<IdleSession>();
  EXPECT_EQ(registry.Register("a", Model("smol", "f1"), session, kT0), nullptr);
  std::optional<AgentRecord> found = registry.Find("a");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->agent_id, "a");
  EXPECT_EQ(found->model->model_id(), "smol");
  EXPECT_EQ(found->session, session);
  EXPECT_EQ(found->connected_since, kT0);
  EXPECT_FALSE(registry.Find("b").has_value());
  EXPECT_EQ(registry.size(), 1u);
}

TEST(AgentRegistryTest, ASecondSessionReplacesTheFirstAndDropsItsTopics) {
  AgentRegistry registry;
  auto first = std::make_shared<IdleSession>();
  auto second = std::make_shared<IdleSession>();
  registry.Register("a", Model("smol", "f1"), first, kT0);
  ASSERT_TRUE(registry.Subscribe("a", first.get(), "news", 8).ok());
  ASSERT_EQ(Ids(registry.Subscribers("news")), Strings{"a"});

  EXPECT_EQ(registry.Register("a", Model("gemma", "f2"), second, kT0 + absl::Seconds(5)), first);
  std::optional<AgentRecord> found = registry.Find("a");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->session, second);
  EXPECT_EQ(found->model->model_id(), "gemma");
  EXPECT_EQ(found->connected_since, kT0 + absl::Seconds(5));
  EXPECT_TRUE(registry.Subscribers("news").empty());  // the new stream subscribes anew
  EXPECT_EQ(registry.size(), 1u);
  // The replaced session no longer owns the id.
  EXPECT_EQ(ReasonOf(registry.Subscribe("a", first.get(), "news", 8)), v1::NOT_REGISTERED);
}

TEST(AgentRegistryTest, AReplacedStreamEndingLateDoesNotRemoveItsSuccessor) {
  AgentRegistry registry;
  auto first = std::make_shared<IdleSession>();
  auto second = std::make_shared<IdleSession>();
  registry.Register("a", Model("smol", "f1"), first, kT0);
  registry.Register("a", Model("smol", "f1"), second, kT0);
  EXPECT_FALSE(registry.Unregister("a", first.get(), kT0));
  ASSERT_TRUE(registry.Find("a").has_value());
  EXPECT_EQ(registry.Find("a")->session, second);

  ASSERT_TRUE(registry.Subscribe("a", second.get(), "news", 8).ok());
  EXPECT_TRUE(registry.Unregister("a", second.get(), kT0));
  EXPECT_FALSE(registry.Find("a").has_value());
  EXPECT_TRUE(registry.Subscribers("news").empty());
  EXPECT_EQ(registry.size(), 0u);
  EXPECT_FALSE(registry.Unregister("a", second.get(), kT0));  // already gone
}

TEST(AgentRegistryTest, AnAgentThatLeftStaysARecipientUntilReleased) {
  AgentRegistry registry;
  auto session = std::make_shared<IdleSession>();
  registry.Register("a", Model("smol", "f1"), session, kT0);
  ASSERT_TRUE(registry.Subscribe("a", session.get(), "news", 8).ok());
  ASSERT_TRUE(registry.Unregister("a", session.get(), kT0 + absl::Seconds(10)));
  // Not connected: no Find, no topics, not counted, no model for RouteQuery...
  EXPECT_FALSE(registry.Find("a").has_value());
  EXPECT_TRUE(registry.Subscribers("news").empty());
  EXPECT_EQ(registry.size(), 0u);
  EXPECT_EQ(registry.FindModel("smol"), nullptr);
  // ... but a recipient, with its model, listed as absent.
  std::optional<AgentRecord> absent = registry.FindRecipient("a");
  ASSERT_TRUE(absent.has_value());
  EXPECT_EQ(absent->session, nullptr);
  EXPECT_EQ(absent->model->fingerprint(), "f1");
  ASSERT_EQ(registry.List().size(), 1u);
  EXPECT_EQ(registry.List()[0].session, nullptr);
  // Released only once absent since before the cutoff.
  EXPECT_EQ(registry.ReleaseAbsent(kT0 + absl::Seconds(10)), 0u);
  EXPECT_EQ(registry.ReleaseAbsent(kT0 + absl::Seconds(11)), 1u);
  EXPECT_FALSE(registry.FindRecipient("a").has_value());
  EXPECT_TRUE(registry.List().empty());
}

TEST(AgentRegistryTest, ReleaseAbsentKeepsConnectedAgentsAndThoseThatCameBack) {
  AgentRegistry registry;
  auto gone = std::make_shared<IdleSession>(), back = std::make_shared<IdleSession>();
  registry.Register("here", Model("smol", "f1"), std::make_shared<IdleSession>(), kT0);
  registry.Register("back", Model("smol", "f1"), gone, kT0);
  ASSERT_TRUE(registry.Unregister("back", gone.get(), kT0));
  registry.Register("back", Model("smol", "f1"), back, kT0 + absl::Seconds(1));
  EXPECT_EQ(registry.ReleaseAbsent(kT0 + absl::Hours(1)), 0u);
  EXPECT_EQ(registry.size(), 2u);
  EXPECT_EQ(registry.Find("back")->session, back);
}

TEST(AgentRegistryTest, SubscribeChecksTheSessionAndTheTopicLimit) {
  AgentRegistry registry;
  auto session = std::make_shared<IdleSession>();
  IdleSession stranger;
  EXPECT_EQ(ReasonOf(registry.Subscribe("a", session.get(), "t1", 2)), v1::NOT_REGISTERED);
  registry.Register("a", Model("smol", "f1"), session, kT0);
  EXPECT_EQ(ReasonOf(registry.Subscribe("a", &stranger, "t1", 2)), v1::NOT_REGISTERED);

  ASSERT_TRUE(registry.Subscribe("a", session.get(), "t1", 2).ok());
  ASSERT_TRUE(registry.Subscribe("a", session.get(), "t1", 2).ok());  // no-op, not a second slot
  ASSERT_TRUE(registry.Subscribe("a", session.get(), "t2", 2).ok());
  absl::Status full = registry.Subscribe("a", session.get(), "t3", 2);
  EXPECT_EQ(ReasonOf(full), v1::TOO_MANY_TOPICS);
  EXPECT_TRUE(registry.Subscribers("t3").empty());
  // Re-subscribing to a topic it holds is still fine at the limit.
  EXPECT_TRUE(registry.Subscribe("a", session.get(), "t2", 2).ok());
  EXPECT_EQ(registry.List().at(0).topics, (Strings{"t1", "t2"}));
}

TEST(AgentRegistryTest, UnsubscribeFreesTheSlotAndChecksTheSession) {
  AgentRegistry registry;
  auto session = std::make_shared<IdleSession>();
  IdleSession stranger;
  registry.Register("a", Model("smol", "f1"), session, kT0);
  ASSERT_TRUE(registry.Subscribe("a", session.get(), "t1", 1).ok());
  EXPECT_EQ(ReasonOf(registry.Unsubscribe("a", &stranger, "t1")), v1::NOT_REGISTERED);
  EXPECT_EQ(Ids(registry.Subscribers("t1")), Strings{"a"});

  ASSERT_TRUE(registry.Unsubscribe("a", session.get(), "t1").ok());
  EXPECT_TRUE(registry.Subscribers("t1").empty());
  EXPECT_TRUE(registry.Unsubscribe("a", session.get(), "never").ok());
  EXPECT_TRUE(registry.Subscribe("a", session.get(), "t2", 1).ok());  // the slot is free again
}

TEST(AgentRegistryTest, SubscribersAndListAreSortedById) {
  AgentRegistry registry;
  std::vector<std::shared_ptr<IdleSession>> sessions;
  for (const char* id : {"carol", "alice", "bob"}) {
    sessions.push_back(std::make_shared<IdleSession>());
    registry.Register(id, Model("smol", "f1"), sessions.back(), kT0);
  }
  ASSERT_TRUE(registry.Subscribe("carol", sessions[0].get(), "news", 8).ok());
  ASSERT_TRUE(registry.Subscribe("alice", sessions[1].get(), "sports", 8).ok());
  ASSERT_TRUE(registry.Subscribe("alice", sessions[1].get(), "news", 8).ok());
  EXPECT_EQ(Ids(registry.Subscribers("news")), (Strings{"alice", "carol"}));
  EXPECT_TRUE(registry.Subscribers("weather").empty());
  // Only List fills in topics.
  EXPECT_TRUE(registry.Subscribers("news")[0].topics.empty());

  std::vector<AgentRecord> all = registry.List();
  EXPECT_EQ(Ids(all), (Strings{"alice", "bob", "carol"}));
  EXPECT_EQ(all[0].topics, (Strings{"news", "sports"}));
  EXPECT_TRUE(all[1].topics.empty());
  EXPECT_EQ(all[2].topics, Strings{"news"});
}

TEST(AgentRegistryTest, FindModelByModelId) {
  AgentRegistry registry;
  auto session = std::make_shared<IdleSession>();
  EXPECT_EQ(registry.FindModel("smol"), nullptr);
  registry.Register("a", Model("smol", "f1"), session, kT0);
  registry.Register("b", Model("gemma", "f2"), std::make_shared<IdleSession>(), kT0);
  std::shared_ptr<const v1::ModelSpec> smol = registry.FindModel("smol");
  ASSERT_NE(smol, nullptr);
  EXPECT_EQ(smol->fingerprint(), "f1");
  EXPECT_EQ(registry.FindModel("qwen"), nullptr);
  registry.Unregister("a", session.get(), kT0);
  EXPECT_EQ(registry.FindModel("smol"), nullptr);
}

// The header promises the first registered agent's spec when several agents run models
// with the same id (e.g. two weight files, two fingerprints).
TEST(AgentRegistryTest, FindModelReturnsTheFirstRegisteredAgentsSpec) {
  AgentRegistry registry;
  for (int i = 0; i < 32; ++i) {
    registry.Register(absl::StrCat("agent-", 31 - i), Model("smol", absl::StrCat("f", i)),
                      std::make_shared<IdleSession>(), kT0 + absl::Seconds(i));
  }
  std::shared_ptr<const v1::ModelSpec> found = registry.FindModel("smol");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->fingerprint(), "f0");
}

TEST(AgentRegistryTest, ConcurrentRegistrationsAndSubscriptionsAllLand) {
  AgentRegistry registry;
  constexpr int kThreads = 8, kAgentsEach = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&registry, t] {
      for (int i = 0; i < kAgentsEach; ++i) {
        auto session = std::make_shared<IdleSession>();
        const std::string id = absl::StrCat("w", t, "-", i);
        registry.Register(id, Model("smol", "f1"), session, kT0);
        EXPECT_TRUE(registry.Subscribe(id, session.get(), "all", 4).ok());
        EXPECT_TRUE(registry.Subscribe(id, session.get(), absl::StrCat("t", t), 4).ok());
        if (i % 2 == 1) {
          EXPECT_TRUE(registry.Unregister(id, session.get(), kT0));
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(registry.size(), size_t{kThreads * kAgentsEach / 2});
  EXPECT_EQ(registry.Subscribers("all").size(), size_t{kThreads * kAgentsEach / 2});
  EXPECT_EQ(registry.Subscribers("t3").size(), size_t{kAgentsEach / 2});
}

TEST(AgentRegistryTest, RemoteAgentsAreRecipientsButNeverSenders) {
  AgentRegistry registry;
  registry.SetRemote("far", RemoteAgent{Model("gemma", "g1"), {"news"}, "two", true});
  EXPECT_FALSE(registry.Find("far").has_value());  // not a sender here
  std::optional<AgentRecord> r = registry.FindRecipient("far");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->session, nullptr);
  EXPECT_EQ(r->model->model_id(), "gemma");
  EXPECT_EQ(registry.FindRemote("far")->broker, "two");
  // Topic subscribers are local and remote, sorted.
  auto near = std::make_shared<IdleSession>();
  registry.Register("near", Model("smol", "f1"), near, kT0);
  ASSERT_TRUE(registry.Subscribe("near", near.get(), "news", 8).ok());
  EXPECT_EQ(Ids(registry.Subscribers("news")), (Strings{"far", "near"}));
  // An absent remote agent keeps its queue but is no subscriber.
  registry.SetRemote("far", RemoteAgent{Model("gemma", "g1"), {"news"}, "two", false});
  EXPECT_EQ(Ids(registry.Subscribers("news")), (Strings{"near"}));
  EXPECT_TRUE(registry.FindRecipient("far").has_value());
  registry.ClearRemote("far");
  EXPECT_FALSE(registry.FindRecipient("far").has_value());
  EXPECT_EQ(registry.size(), 1u);  // remote agents are not counted as connected here
}

TEST(AgentRegistryTest, ALocalConnectedAgentComesBeforeItsRemoteEntry) {
  AgentRegistry registry;
  auto here = std::make_shared<IdleSession>();
  registry.Register("x", Model("smol", "f1"), here, kT0);
  registry.SetRemote("x", RemoteAgent{Model("gemma", "g1"), {}, "two", true});
  EXPECT_EQ(registry.FindRecipient("x")->session, here);
  // Once it left here, the remote entry (where it went) is the recipient.
  ASSERT_TRUE(registry.Unregister("x", here.get(), kT0));
  EXPECT_EQ(registry.FindRecipient("x")->model->model_id(), "gemma");
}

TEST(AgentRegistryTest, TheListenerHearsEveryLocalChange) {
  AgentRegistry registry;
  std::vector<std::string> heard;
  registry.SetListener([&heard](const std::string& id) { heard.push_back(id); });
  auto s = std::make_shared<IdleSession>();
  registry.Register("a", Model("smol", "f1"), s, kT0);
  ASSERT_TRUE(registry.Subscribe("a", s.get(), "t", 8).ok());
  ASSERT_TRUE(registry.Subscribe("a", s.get(), "t", 8).ok());  // no change: not heard
  ASSERT_TRUE(registry.Unsubscribe("a", s.get(), "t").ok());
  ASSERT_TRUE(registry.Unregister("a", s.get(), kT0));
  EXPECT_EQ(registry.ReleaseAbsent(kT0 + absl::Seconds(1)), 1u);
  registry.SetRemote("b", RemoteAgent{Model("smol", "f1"), {}, "two", true});  // not local
  EXPECT_EQ(heard, (Strings{"a", "a", "a", "a", "a"}));
  registry.SetListener(nullptr);
  registry.Register("c", Model("smol", "f1"), s, kT0);
  EXPECT_EQ(heard.size(), 5u);
}

}  // namespace
}  // namespace latentbus::broker
