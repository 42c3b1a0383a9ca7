// The verdicts drawn from monitoring answers, on made-up answers (nats_process_test asks
// real servers).
#include "nats/nats_health.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace latentbus::nats {
namespace {

using ::testing::ElementsAre;

NatsHealth Healthy(const std::string& meta_leader) {
  NatsHealth h;
  h.healthy = true;
  h.jetstream = true;
  h.meta_leader = meta_leader;
  return h;
}

TEST(NatsHealthTest, ClusterIsReadyWhenEveryNodeNamesTheSameMetaLeader) {
  EXPECT_THAT(ReadinessProblems({Healthy("n1"), Healthy("n1"), Healthy("n1")}, true, true),
              ElementsAre("", "", ""));
}

TEST(NatsHealthTest, ReadinessNamesEachNodesProblem) {
  NatsHealth down;
  down.problem = "no answer from /healthz (Connection error)";
  NatsHealth plain = Healthy("");
  plain.jetstream = false;
  EXPECT_THAT(
      ReadinessProblems({Healthy("n1"), down, Healthy(""), Healthy("n2"), plain}, true, true),
      ElementsAre("", "no answer from /healthz (Connection error)", "no JetStream meta leader yet",
                  "names n2 as meta leader, another node n1", "JetStream is not enabled"));
  // Standalone: no meta leader needed; without JetStream asked, none needed either.
  EXPECT_THAT(ReadinessProblems({Healthy("")}, true, false), ElementsAre(""));
  EXPECT_THAT(ReadinessProblems({plain}, false, false), ElementsAre(""));
}

NatsStream View(const std::string& name, const std::string& leader,
                std::vector<NatsStreamReplica> replicas) {
  NatsStream s;
  s.name = name;
  s.leader = leader;
  s.replicas = std::move(replicas);
  return s;
}

TEST(NatsHealthTest, StreamsAreReportedAsTheirLeaderSeesThem) {
  // n0 and n2 follow (they list the leader n1, and think the other follower is behind);
  // n1 leads and knows both are current.
  NatsHealth n0, n1, n2;
  n0.streams = {View("LATENTBUS", "n1", {{"n1", true, false, 0}, {"n2", false, false, 0}})};
  n1.streams = {
      View("LATENTBUS", "n1", {{"n0", true, false, 0}, {"n2", true, false, 0}}),
      View("KV_LATENTBUS_AGENTS", "n1", {{"n0", true, false, 0}, {"n2", false, true, 4}})};
  n2.streams = {View("LATENTBUS", "n1", {{"n0", false, false, 0}, {"n1", true, false, 0}})};
  const std::vector<NatsStream> streams = StreamsAsLeadersSee({n0, n1, n2});
  ASSERT_EQ(streams.size(), 2u);
  EXPECT_EQ(streams[0].name, "KV_LATENTBUS_AGENTS");
  EXPECT_EQ(streams[0].replicas[1].lag, 4u);
  EXPECT_TRUE(streams[0].replicas[1].offline);
  EXPECT_EQ(streams[1].name, "LATENTBUS");
  EXPECT_EQ(streams[1].leader, "n1");
  ASSERT_EQ(streams[1].replicas.size(), 2u);
  EXPECT_EQ(streams[1].replicas[0].name, "n0");
  EXPECT_TRUE(streams[1].replicas[0].current);
  EXPECT_TRUE(streams[1].replicas[1].current);
}

TEST(NatsHealthTest, WithoutTheLeadersAnswerAnotherViewIsReported) {
  NatsHealth follower;
  follower.streams = {View("LATENTBUS", "n1", {{"n1", true, false, 0}, {"n2", false, false, 0}})};
  NatsHealth leaderless;
  leaderless.streams = {View("LATENTBUS", "", {{"n0", false, false, 0}, {"n1", false, true, 0}})};
  std::vector<NatsStream> streams = StreamsAsLeadersSee({follower, leaderless});
  ASSERT_EQ(streams.size(), 1u);
  EXPECT_EQ(streams[0].leader, "n1");  // the first view found
  streams = StreamsAsLeadersSee({});
  EXPECT_TRUE(streams.empty());
}

}  // namespace
}  // namespace latentbus::nats
