// A real bridge artifact (the bridge/ format written by `latentbus bridge fit`) loaded by
// the broker through LoadBridge or its bridge folder, then used to translate a latent
// between two registered models.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "bridge/bridge_artifact.h"
#include "broker/artifact_bridge.h"
#include "codec/packet_proto.h"
#include "tests/broker_harness.h"
#include "tests/log_capture.h"

namespace latentbus::testing {
namespace {

using v1::BrokerFrame;

const v1::ModelSpec kSrc = MakeSpec("src-model", 64, 48, "fp32");
const v1::ModelSpec kDst = MakeSpec("dst-model", 40, 32, "fp32");

codec::Tensor Filled(std::vector<uint32_t> shape, float value) {
  codec::Tensor t;
  t.shape = shape;
  t.data.assign(codec::NumElements(shape), value);
  return t;
}

// An affine bridge src (64) -> dst embeddings (32) with y_j = 2 x_j + 1: identity
// normalizers, map[i][j] = 2 for i == j, dst mean 1.
std::string WriteArtifact(const std::string& dir, const v1::ModelSpec& src,
                          const v1::ModelSpec& dst, double cosine) {
  bridge::BridgeArtifact a;
  a.metadata.kind = "affine";
  a.metadata.src_model_id = src.model_id();
  a.metadata.src_fingerprint = src.fingerprint();
  a.metadata.dst_model_id = dst.model_id();
  a.metadata.dst_fingerprint = dst.fingerprint();
  a.metadata.layer = static_cast<int>(src.tap_layer());
  a.metadata.src_dim = src.hidden_size();
  a.metadata.dst_dim = dst.embedding_size();
  a.metadata.corpus_hash = "test";
  a.metadata.fidelity["cosine"] = cosine;
  a.tensors["src_mean"] = Filled({64}, 0.0f);
  a.tensors["src_std"] = Filled({64}, 1.0f);
  codec::Tensor map = Filled({64, 32}, 0.0f);
  for (uint32_t i = 0; i < 32; ++i) map.data[i * 32 + i] = 2.0f;
  a.tensors["map"] = map;
  a.tensors["dst_mean"] = Filled({32}, 1.0f);
  a.tensors["dst_std"] = Filled({32}, 1.0f);
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/" + src.model_id() + "-to-" + dst.model_id() + ".bridge";
  EXPECT_TRUE(bridge::WriteBridgeArtifact(path, a).ok());
  return path;
}

std::string TempDir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/lb_bridges_" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

// Sends a latent from src to dst and checks the delivered packet is the artifact's map
// applied to what was sent, in the receiver's space and encoding: to float rounding, or
// with `int8` to the rounding of each row to int8 (half a step of amax / 127 per value,
// times the map's 2; the map's own values are exact in int8).
void ExpectTranslated(TestBroker& broker, bool int8 = false) {
  TestAgent a(broker.Channel()), b(broker.Channel());
  ASSERT_TRUE(a.Register("a", kSrc).ok());
  ASSERT_TRUE(b.Register("b", kDst).ok());
  const v1::LatentPacket sent = MakeLatent(kSrc, 4, "fp32");
  v1::Envelope e = ToAgent("m1", "b", "");
  e.clear_text();
  *e.mutable_latent() = sent;
  a.Send(e);
  std::optional<BrokerFrame> f = b.NextOf(BrokerFrame::kDeliver);
  ASSERT_TRUE(f.has_value()) << "no delivery";
  const v1::Envelope& got = f->deliver().envelope();
  EXPECT_EQ(got.delivered_form(), v1::PAYLOAD_FORM_LATENT);
  absl::StatusOr<codec::Packet> packet = codec::FromProto(got.latent());
  ASSERT_TRUE(packet.ok()) << packet.status();
  EXPECT_EQ(packet->model_id, "dst-model");
  EXPECT_EQ(packet->space, codec::Space::kInputEmbedding);
  ASSERT_EQ(packet->shape, (std::vector<uint32_t>{4, 32}));
  absl::StatusOr<codec::Tensor> out = codec::Decode(*packet);
  absl::StatusOr<codec::Tensor> in = codec::Decode(*codec::FromProto(sent));
  ASSERT_TRUE(out.ok() && in.ok());
  for (uint32_t r = 0; r < 4; ++r) {
    float amax = 0;
    for (uint32_t c = 0; c < 64; ++c) amax = std::max(amax, std::fabs(in->data[r * 64 + c]));
    const float tolerance = 1e-4f + (int8 ? 2.0f * 0.5f * amax / 127 : 0.0f);
    for (uint32_t j = 0; j < 32; ++j) {
      ASSERT_NEAR(out->data[r * 32 + j], 2.0f * in->data[r * 64 + j] + 1.0f, tolerance)
          << "row " << r << " column " << j;
    }
  }
}

TEST(BrokerBridgeTest, LoadBridgeRpcThenTranslate) {
  TestBroker broker(TestConfig(), broker::ArtifactBridgeLoader("blas"));
  const std::string path = WriteArtifact(TempDir("rpc"), kSrc, kDst, 0.95);
  auto stub = broker.Stub();
  grpc::ClientContext ctx;
  v1::LoadBridgeRequest req;
  req.set_path(path);
  v1::LoadBridgeResponse resp;
  ASSERT_TRUE(stub->LoadBridge(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.bridge().kind(), "affine");
  EXPECT_EQ(resp.bridge().src_model_id(), "src-model");
  EXPECT_EQ(resp.bridge().dst_dim(), 32u);
  EXPECT_DOUBLE_EQ(resp.bridge().fidelity().at("cosine"), 0.95);
  ExpectTranslated(broker);
}

// A latent for one receiver is translated on the receiving gRPC thread when the workers
// are idle (translation.inline_max_tokens), or on a worker when inline translation is off
// or the packet is longer: the same delivery either way.
TEST(BrokerBridgeTest, InlineAndWorkerTranslationsDeliverTheSame) {
  for (uint32_t limit : {0u, 3u, 4u, 128u}) {
    broker::BrokerConfig config = TestConfig();
    config.translation.inline_max_tokens = limit;
    TestBroker broker(config, broker::ArtifactBridgeLoader("blas"));
    v1::LoadBridgeRequest req;
    req.set_path(WriteArtifact(TempDir("inline"), kSrc, kDst, 0.95));
    ASSERT_TRUE(broker.broker().bridges().Load(req).ok());
    ExpectTranslated(broker);  // a 4-token latent
    const double inline_count =
        broker.broker().metrics().CounterValue("latentbus_translations_inline_total");
    EXPECT_EQ(inline_count, limit >= 4 ? 1.0 : 0.0) << "inline_max_tokens " << limit;
    EXPECT_EQ(
        broker.broker().metrics().CounterValue("latentbus_translations_total", {{"result", "ok"}}),
        1.0);
  }
}

// A bridge below the policy's threshold loads (an operator may lower the threshold
// later), but the broker warns that it will carry no latents, and says why.
TEST(BrokerBridgeTest, LoadingABridgeBelowThePolicyThresholdWarns) {
  LogCapture capture;
  {
    TestBroker broker(TestConfig(), broker::ArtifactBridgeLoader());
    auto stub = broker.Stub();
    for (double cosine : {0.5, 0.95}) {
      grpc::ClientContext ctx;
      v1::LoadBridgeRequest req;
      req.set_path(WriteArtifact(TempDir("warn" + std::to_string(cosine)), kSrc, kDst, cosine));
      req.set_replace(true);
      v1::LoadBridgeResponse resp;
      const grpc::Status s = stub->LoadBridge(&ctx, req, &resp);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
  }
  const std::string log = capture.text();
  const size_t weak = log.find("[warning] bridge loaded");
  ASSERT_NE(weak, std::string::npos) << log;
  const std::string weak_line = log.substr(weak, log.find('\n', weak) - weak);
  EXPECT_NE(weak_line.find("but"), std::string::npos) << weak_line;
  EXPECT_NE(weak_line.find("0.5"), std::string::npos) << "the score is named: " << weak_line;
  EXPECT_EQ(log.find("[warning] bridge loaded", weak + 1), std::string::npos) << log;
  EXPECT_NE(log.find("[info] bridge loaded"), std::string::npos) << "the good one: " << log;
}

TEST(BrokerBridgeTest, UploadedArtifactBytesLoadToo) {
  TestBroker broker(TestConfig(), broker::ArtifactBridgeLoader("blas"));
  const std::string path = WriteArtifact(TempDir("upload"), kSrc, kDst, 0.95);
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto stub = broker.Stub();
  grpc::ClientContext ctx;
  v1::LoadBridgeRequest req;
  req.set_artifact(bytes);
  v1::LoadBridgeResponse resp;
  ASSERT_TRUE(stub->LoadBridge(&ctx, req, &resp).ok());
  ExpectTranslated(broker);

  grpc::ClientContext bad_ctx;
  v1::LoadBridgeRequest bad;
  bad.set_artifact("not an artifact");
  EXPECT_FALSE(stub->LoadBridge(&bad_ctx, bad, &resp).ok());
}

TEST(BrokerBridgeTest, BridgeFolderLoadedAtStart) {
  TestBroker broker(TestConfig(), broker::ArtifactBridgeLoader("blas"));
  const std::string dir = TempDir("folder");
  WriteArtifact(dir, kSrc, kDst, 0.95);
  absl::StatusOr<int> loaded = broker::LoadBridgeDirectory(dir, &broker.broker().bridges());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(*loaded, 1);
  ExpectTranslated(broker);
}

// The same bridge on int8 products (the reference variant, which every CPU runs and
// whose bits every variant gives).
TEST(BrokerBridgeTest, Int8KernelsTranslateToTheRoundingOfTheirRows) {
  TestBroker broker(TestConfig(), broker::ArtifactBridgeLoader("scalar"));
  const std::string dir = TempDir("int8");
  WriteArtifact(dir, kSrc, kDst, 0.95);
  ASSERT_TRUE(broker::LoadBridgeDirectory(dir, &broker.broker().bridges()).ok());
  ExpectTranslated(broker, /*int8=*/true);
}

// Kernels the CPU cannot run fail the load and say what it can.
TEST(BrokerBridgeTest, UnknownKernelsFailTheLoad) {
  TestBroker broker(TestConfig(), broker::ArtifactBridgeLoader("fastest"));
  const std::string dir = TempDir("kernels");
  WriteArtifact(dir, kSrc, kDst, 0.95);
  absl::StatusOr<int> loaded = broker::LoadBridgeDirectory(dir, &broker.broker().bridges());
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("choose one of"), std::string::npos) << loaded.status();
}

TEST(BrokerBridgeTest, WeakOrBrokenArtifactsDoNotCarryLatents) {
  TestBroker broker(TestConfig(), broker::ArtifactBridgeLoader());
  const std::string dir = TempDir("weak");
  WriteArtifact(dir, kSrc, kDst, 0.5);  // below the default fidelity threshold
  ASSERT_TRUE(broker::LoadBridgeDirectory(dir, &broker.broker().bridges()).ok());
  TestAgent a(broker.Channel()), b(broker.Channel());
  ASSERT_TRUE(a.Register("a", kSrc).ok());
  ASSERT_TRUE(b.Register("b", kDst).ok());
  v1::Envelope e = ToAgent("m1", "b", "the text form");
  *e.mutable_latent() = MakeLatent(kSrc, 2, "fp32");
  a.Send(e);
  std::optional<BrokerFrame> f = b.NextOf(BrokerFrame::kDeliver);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->deliver().envelope().delivered_form(), v1::PAYLOAD_FORM_TEXT);

  const std::string broken = TempDir("broken");
  std::filesystem::create_directories(broken);
  std::ofstream(broken + "/x.bridge") << "garbage";
  absl::StatusOr<int> loaded = broker::LoadBridgeDirectory(broken, &broker.broker().bridges());
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("x.bridge"), std::string::npos) << loaded.status();
  EXPECT_FALSE(broker::LoadBridgeDirectory(broken + "/missing", &broker.broker().bridges()).ok());
}

}  // namespace
}  // namespace latentbus::testing
