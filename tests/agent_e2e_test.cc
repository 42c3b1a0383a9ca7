// End to end with both real models on loopback: a real broker, an agent on
// SmolLM2-135M-Instruct and one on Gemma 3 270M (agent/node), affine bridges fitted here
// from the shipped corpus in both directions, and a text-only person client.
//
// The bridges are fitted on the first 60 corpus items to keep the test short, so the
// broker's fidelity threshold is lowered: these tests check that the plumbing carries
// and uses latents, not how good the bridges are (docs/BRIDGES.md has that).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "agent/client/client.h"
#include "agent/model_cache/model_cache.h"
#include "agent/node/agent.h"
#include "bridge/bridge_artifact.h"
#include "bridge/corpus.h"
#include "bridge/fit.h"
#include "broker/artifact_bridge.h"
#include "calibrate/calibrate.h"
#include "codec/packet_proto.h"
#include "tests/broker_harness.h"

namespace latentbus::testing {
namespace {

using agent::node::Agent;

std::string ModelPath(const std::string& file) {
  std::string path = agent::ModelCachePath(file);
  if (!std::ifstream(path)) {
    ADD_FAILURE() << path << " is missing: run scripts/fetch-models.sh";
    std::abort();
  }
  return path;
}

class AgentE2ETest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    broker::BrokerConfig config = TestConfig();
    config.policy.min_fidelity = 0.3;
    broker_ = new TestBroker(config, broker::ArtifactBridgeLoader());
    smol_ = StartAgent("smol", agent::kSmolLm2File, 10).release();
    gemma_ = StartAgent("gemma", agent::kGemma3File, 6).release();
    FitBridges();
    for (Agent* a : {smol_, gemma_}) {
      servers_->emplace_back([a] { EXPECT_TRUE(a->Serve().ok()); });
    }
    agent::ClientOptions o;
    o.address = broker_->address();
    o.agent_id = "person";
    person_ = agent::Client::Connect(o)->release();
  }

  static void TearDownTestSuite() {
    delete person_;
    for (Agent* a : {smol_, gemma_}) a->client().Close();
    for (std::thread& t : *servers_) t.join();
    delete smol_;
    delete gemma_;
    delete broker_;
  }

  static std::unique_ptr<Agent> StartAgent(const std::string& id, const std::string& file,
                                           int layer) {
    agent::node::AgentOptions o;
    o.client.address = broker_->address();
    o.client.agent_id = id;
    o.model_path = ModelPath(file);
    o.load.threads = 1;  // ctest runs two tests at once on 2 cores
    o.tap_layer = layer;
    o.max_new_tokens = 12;
    o.text_max_tokens = 24;
    absl::StatusOr<std::unique_ptr<Agent>> a = Agent::Start(o);
    if (!a.ok()) {
      ADD_FAILURE() << a.status();
      std::abort();
    }
    return *std::move(a);
  }

  static void FitBridges() {
    absl::StatusOr<std::vector<bridge::CorpusItem>> items =
        bridge::ReadCorpus(std::string(LATENTBUS_SOURCE_DIR) + "/data/corpus/corpus.txt", 60);
    ASSERT_TRUE(items.ok()) << items.status();
    calibrate::CalibrateOptions cs{{10}, "corpus.txt", nullptr};
    calibrate::CalibrateOptions cg{{6}, "corpus.txt", nullptr};
    absl::StatusOr<bridge::ActivationFile> s = calibrate::Calibrate(smol_->model(), *items, cs);
    absl::StatusOr<bridge::ActivationFile> g = calibrate::Calibrate(gemma_->model(), *items, cg);
    ASSERT_TRUE(s.ok() && g.ok());
    const std::string dir = ::testing::TempDir() + "/lb_e2e_bridges";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    absl::StatusOr<bridge::BridgeArtifact> sg = bridge::FitBridge(*s, *g, 10, {});
    absl::StatusOr<bridge::BridgeArtifact> gs = bridge::FitBridge(*g, *s, 6, {});
    ASSERT_TRUE(sg.ok() && gs.ok());
    ASSERT_TRUE(bridge::WriteBridgeArtifact(dir + "/smol-gemma.bridge", *sg).ok());
    ASSERT_TRUE(bridge::WriteBridgeArtifact(dir + "/gemma-smol.bridge", *gs).ok());
    absl::StatusOr<int> loaded = broker::LoadBridgeDirectory(dir, &broker_->broker().bridges());
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    ASSERT_EQ(*loaded, 2);
  }

  // The person asks `via` to pass `text` on to `to` as `cls`; returns the reply.
  static v1::Envelope Relay(const std::string& via, const std::string& to, const std::string& text,
                            v1::MessageClass cls) {
    v1::Envelope e;
    e.mutable_recipient()->set_agent_id(via);
    e.set_text(text);
    (*e.mutable_metadata())[agent::node::kMetaForwardTo] = to;
    (*e.mutable_metadata())[agent::node::kMetaClass] = v1::MessageClass_Name(cls);
    absl::StatusOr<v1::Envelope> reply = person_->Request(e, absl::Seconds(180));
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? *reply : v1::Envelope();
  }

  static std::string Meta(const v1::Envelope& e, const std::string& key) {
    auto it = e.metadata().find(key);
    return it == e.metadata().end() ? "" : it->second;
  }

  static TestBroker* broker_;
  static Agent* smol_;
  static Agent* gemma_;
  static agent::Client* person_;
  static std::vector<std::thread>* servers_;
};

TestBroker* AgentE2ETest::broker_ = nullptr;
Agent* AgentE2ETest::smol_ = nullptr;
Agent* AgentE2ETest::gemma_ = nullptr;
agent::Client* AgentE2ETest::person_ = nullptr;
std::vector<std::thread>* AgentE2ETest::servers_ = new std::vector<std::thread>();

TEST_F(AgentE2ETest, ContextTravelsAsInt4LatentThroughTheBridgeInBothDirections) {
  const std::string text = "The deployment failed at 02:14 because the disk was full.";
  for (auto [via, to] : {std::pair{"smol", "gemma"}, std::pair{"gemma", "smol"}}) {
    v1::Envelope reply = Relay(via, to, text, v1::MESSAGE_CLASS_CONTEXT);
    SCOPED_TRACE(std::string(via) + " -> " + to);
    EXPECT_EQ(Meta(reply, "lb.error"), "");
    EXPECT_EQ(Meta(reply, "lb.sent_form"), "latent");
    EXPECT_EQ(Meta(reply, "lb.received_form"), "latent");
    EXPECT_EQ(Meta(reply, "lb.receiver"), to);
    EXPECT_GE(std::stoi(Meta(reply, "lb.soft_tokens_sent")), 10);
    EXPECT_EQ(Meta(reply, "lb.soft_tokens"), Meta(reply, "lb.soft_tokens_sent"));
    EXPECT_GT(std::stoi(Meta(reply, "lb.latent_bytes")), 0);
    EXPECT_EQ(Meta(reply, "lb.text_bytes"), "0");  // no text was written or sent
    EXPECT_EQ(Meta(reply, "lb.received_text"), "");
    EXPECT_FALSE(reply.text().empty());
  }
}

TEST_F(AgentE2ETest, ReasoningFallsBackToTextTheSenderWrites) {
  v1::Envelope reply = Relay("smol", "gemma",
                             "If a train leaves at 3 pm and takes 2 hours, when "
                             "does it arrive?",
                             v1::MESSAGE_CLASS_REASONING);
  EXPECT_EQ(Meta(reply, "lb.error"), "");
  EXPECT_EQ(Meta(reply, "lb.sent_form"), "text");
  EXPECT_EQ(Meta(reply, "lb.received_form"), "text");
  EXPECT_EQ(Meta(reply, "lb.latent_bytes"), "0");
  EXPECT_FALSE(Meta(reply, "lb.sent_text").empty());
  EXPECT_EQ(Meta(reply, "lb.received_text"), Meta(reply, "lb.sent_text"));
  EXPECT_FALSE(reply.text().empty());
}

TEST_F(AgentE2ETest, ReceiverOutputDependsOnTheSoftTokens) {
  // A probe registered with Gemma's spec receives what the broker delivers to Gemma.
  agent::ClientOptions o;
  o.address = broker_->address();
  o.agent_id = "gemma-probe";
  o.model = gemma_->spec();
  absl::StatusOr<std::unique_ptr<agent::Client>> probe = agent::Client::Connect(o);
  ASSERT_TRUE(probe.ok()) << probe.status();
  v1::Address to;
  to.set_agent_id("gemma-probe");
  auto deliver = [&](const std::string& content) {
    absl::StatusOr<agent::node::SendReport> sent =
        smol_->Send(to, content, v1::MESSAGE_CLASS_CONTEXT);
    EXPECT_TRUE(sent.ok()) << sent.status();
    std::optional<v1::Envelope> got = (*probe)->Receive(absl::Seconds(60));
    EXPECT_TRUE(got.has_value());
    if (got) (*probe)->Ack(*got);
    return got.value_or(v1::Envelope());
  };
  v1::Envelope about_disk = deliver("The disk on the build server is full again.");
  v1::Envelope about_cats = deliver("My cat sleeps all afternoon in the sunny window.");
  ASSERT_TRUE(about_disk.has_latent());
  absl::StatusOr<codec::Packet> packet = codec::FromProto(about_disk.latent());
  ASSERT_TRUE(packet.ok());
  EXPECT_EQ(packet->space, codec::Space::kInputEmbedding);
  EXPECT_EQ(packet->shape[1], gemma_->spec().embedding_size());

  absl::StatusOr<agent::node::ReadReport> with = gemma_->Read(about_disk);
  absl::StatusOr<agent::node::ReadReport> other = gemma_->Read(about_cats);
  v1::Envelope removed = about_disk;
  removed.clear_latent();
  absl::StatusOr<agent::node::ReadReport> without = gemma_->Read(removed);
  ASSERT_TRUE(with.ok() && other.ok() && without.ok());
  EXPECT_EQ(with->form, v1::PAYLOAD_FORM_LATENT);
  EXPECT_GT(with->soft_tokens, 5u);
  EXPECT_EQ(without->soft_tokens, 0u);
  EXPECT_NE(with->output, without->output) << "soft tokens removed, same output: " << with->output;
  EXPECT_NE(with->output, other->output) << "different content, same output: " << with->output;
  EXPECT_GT(with->prompt_tokens, without->prompt_tokens);
}

TEST_F(AgentE2ETest, ARelayRequestThatArrivesAsALatentIsRefusedNotRelayedEmpty) {
  // smol asks gemma, in a latent, to pass the message on: gemma receives soft tokens and
  // no text, so it has nothing to relay and says so (it once relayed an empty message).
  absl::StatusOr<std::pair<agent::node::SendReport, v1::Envelope>> r = smol_->Request(
      "gemma", "Pass this on: the build server disk is full.", v1::MESSAGE_CLASS_CONTEXT,
      {{agent::node::kMetaForwardTo, "smol"}}, absl::Seconds(120));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->first.sent_latent);
  EXPECT_NE(Meta(r->second, "lb.error").find("a relay needs the message's text"), std::string::npos)
      << Meta(r->second, "lb.error");
}

}  // namespace
}  // namespace latentbus::testing
