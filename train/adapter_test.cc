#include "train/adapter.h"

#include <gtest/gtest.h>

#include "bridge/bridge.h"
#include "codec/packet.h"
#include "torch_edge/torch_edge.h"
#include "train/wire_simulation.h"

namespace latentbus::train {
namespace {

using torch_edge::FromTorch;
using torch_edge::ToTorch;

bridge::BridgeArtifact RandomAffine(int64_t ds, int64_t dt) {
  torch::manual_seed(3);
  bridge::BridgeArtifact a;
  a.metadata.kind = "affine";
  a.metadata.src_model_id = "a";
  a.metadata.dst_model_id = "b";
  a.metadata.layer = 2;
  a.metadata.src_dim = ds;
  a.metadata.dst_dim = dt;
  a.tensors["src_mean"] = FromTorch(torch::randn({ds}));
  a.tensors["src_std"] = FromTorch(torch::rand({ds}) + 0.5);
  a.tensors["map"] = FromTorch(torch::randn({ds, dt}) * 0.2);
  a.tensors["dst_mean"] = FromTorch(torch::randn({dt}));
  a.tensors["dst_std"] = FromTorch(torch::rand({dt}) + 0.5);
  return a;
}

double MaxDiff(const codec::Tensor& a, const torch::Tensor& b) {
  return (ToTorch(a) - b.detach()).abs().max().item<double>();
}

TEST(AdapterTest, StartsExactlyAsTheLinearBridge) {
  const bridge::BridgeArtifact affine = RandomAffine(48, 32);
  absl::StatusOr<Adapter> adapter = Adapter::FromLinear(affine, 16, 1);
  ASSERT_TRUE(adapter.ok()) << adapter.status();
  absl::StatusOr<std::unique_ptr<bridge::Bridge>> bridge = bridge::Bridge::FromArtifact(affine);
  ASSERT_TRUE(bridge.ok());
  const torch::Tensor x = torch::randn({7, 48});
  absl::StatusOr<codec::Tensor> want = (*bridge)->Apply(FromTorch(x));
  ASSERT_TRUE(want.ok());
  EXPECT_LT(MaxDiff(*want, adapter->Forward(x)), 1e-4);
}

TEST(AdapterTest, BrokerAppliesTheArtifactAsTrainingComputedIt) {
  absl::StatusOr<Adapter> adapter = Adapter::FromLinear(RandomAffine(48, 32), 16, 1);
  ASSERT_TRUE(adapter.ok());
  {
    torch::NoGradGuard no_grad;
    for (const torch::Tensor& t : adapter->Trained()) t.add_(torch::randn_like(t) * 0.3);
  }
  bridge::BridgeMetadata meta;
  meta.src_model_id = "a";
  meta.dst_model_id = "b";
  const bridge::BridgeArtifact artifact = adapter->ToArtifact(meta);
  ASSERT_TRUE(bridge::ValidateBridgeArtifact(artifact).ok());
  absl::StatusOr<std::unique_ptr<bridge::Bridge>> bridge = bridge::Bridge::FromArtifact(artifact);
  ASSERT_TRUE(bridge.ok()) << bridge.status();
  EXPECT_EQ((*bridge)->kind(), "adapter");
  // Two inputs of different lengths in one batch, as the broker batches them.
  const torch::Tensor x1 = torch::randn({5, 48}), x2 = torch::randn({3, 48});
  absl::StatusOr<std::vector<codec::Tensor>> out =
      (*bridge)->ApplyBatch({FromTorch(x1), FromTorch(x2)});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)[0].shape, (std::vector<uint32_t>{5, 32}));
  EXPECT_LT(MaxDiff((*out)[0], adapter->Forward(x1)), 1e-4);
  EXPECT_LT(MaxDiff((*out)[1], adapter->Forward(x2)), 1e-4);
  // And it reloads for further training.
  absl::StatusOr<Adapter> again = Adapter::FromArtifact(artifact);
  ASSERT_TRUE(again.ok());
  EXPECT_LT((again->Forward(x1) - adapter->Forward(x1)).abs().max().item<double>(), 1e-6);
}

TEST(AdapterTest, RefusesOtherKindsAndBadRank) {
  bridge::BridgeArtifact a = RandomAffine(8, 8);
  EXPECT_FALSE(Adapter::FromLinear(a, 0, 1).ok());
  EXPECT_FALSE(Adapter::FromArtifact(a).ok());
  a.metadata.kind = "resampler";
  EXPECT_FALSE(Adapter::FromLinear(a, 4, 1).ok());
}

TEST(WireSimulationTest, ValuesAreTheCodecsGradientPassesThrough) {
  const torch::Tensor x = (torch::randn({4, 64}) * 3).requires_grad_(true);
  const codec::Encoding int4 = *codec::ParseEncoding("int4/g32");
  absl::StatusOr<torch::Tensor> y = ThroughWire(x, int4);
  ASSERT_TRUE(y.ok()) << y.status();
  absl::StatusOr<codec::Packet> packet = codec::Encode(FromTorch(x), int4);
  ASSERT_TRUE(packet.ok());
  absl::StatusOr<codec::Tensor> decoded = codec::Decode(*packet);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(MaxDiff(*decoded, *y), 0.0);
  EXPECT_GT((*y - x).abs().max().item<double>(), 0.0);  // int4 does round
  const torch::Tensor w = torch::randn({4, 64});
  (*y * w).sum().backward();
  EXPECT_TRUE(torch::equal(x.grad(), w));
}

}  // namespace
}  // namespace latentbus::train
