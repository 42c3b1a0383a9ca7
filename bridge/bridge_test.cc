#include "bridge/bridge.h"

#include <cmath>
#include <cstdlib>
#include <random>
#include <thread>

#include "bridge/safetensors_io.h"
#include "gtest/gtest.h"

namespace latentbus::bridge {
namespace {

codec::Tensor T(std::vector<uint32_t> shape, std::vector<float> data) {
  return codec::Tensor{std::move(shape), std::move(data)};
}

BridgeArtifact Resampler(uint32_t ds, uint32_t dt, uint32_t k, uint32_t heads, uint32_t inner);

BridgeArtifact Linear2x2() {
  BridgeArtifact a;
  BridgeMetadata& m = a.metadata;
  m.kind = "affine";
  m.src_model_id = "smol";
  m.src_fingerprint = "aaaa";
  m.dst_model_id = "gemma";
  m.dst_fingerprint = "bbbb";
  m.layer = 7;
  m.src_dim = 2;
  m.dst_dim = 2;
  m.corpus_hash = "c0ffee";
  m.fidelity = {{"cosine", 0.5}, {"word_top1", 0.25}};
  a.tensors["src_mean"] = T({2}, {1, 0});
  a.tensors["src_std"] = T({2}, {2, 1});
  a.tensors["map"] = T({2, 2}, {1, 0, 0, 1});
  a.tensors["dst_mean"] = T({2}, {0, 5});
  a.tensors["dst_std"] = T({2}, {1, 3});
  return a;
}

TEST(BridgeTest, ArtifactRoundTripAndHandCheckedLinearApply) {
  const std::string path = std::string(::testing::TempDir()) + "/b.bridge";
  ASSERT_TRUE(WriteBridgeArtifact(path, Linear2x2()).ok());
  absl::StatusOr<std::unique_ptr<Bridge>> b = Bridge::Load(path);
  ASSERT_TRUE(b.ok()) << b.status();
  const BridgeMetadata& m = (*b)->metadata();
  EXPECT_EQ(m.kind, "affine");
  EXPECT_EQ(m.src_model_id, "smol");
  EXPECT_EQ(m.dst_fingerprint, "bbbb");
  EXPECT_EQ(m.layer, 7);
  EXPECT_EQ(m.corpus_hash, "c0ffee");
  EXPECT_EQ(m.format_version, kBridgeFormatVersion);
  EXPECT_DOUBLE_EQ(m.fidelity.at("word_top1"), 0.25);
  // x = [3, 1]: z = [(3-1)/2, 1] = [1, 1]; y = [1*1 + 0, 1*3 + 5] = [1, 8].
  absl::StatusOr<codec::Tensor> y = (*b)->Apply(T({1, 2}, {3, 1}));
  ASSERT_TRUE(y.ok()) << y.status();
  EXPECT_EQ(y->shape, (std::vector<uint32_t>{1, 2}));
  EXPECT_NEAR(y->data[0], 1.0f, 1e-6);
  EXPECT_NEAR(y->data[1], 8.0f, 1e-6);
  EXPECT_FALSE((*b)->Apply(T({1, 3}, {1, 2, 3})).ok());
}

TEST(BridgeTest, Bf16ArtifactsHalveTheBytesAndApplyTheRoundedMap) {
  const std::string f32 = std::string(::testing::TempDir()) + "/f32.bridge";
  const std::string bf16 = std::string(::testing::TempDir()) + "/bf16.bridge";
  ASSERT_TRUE(WriteBridgeArtifact(f32, Linear2x2()).ok());
  ASSERT_TRUE(WriteBridgeArtifact(bf16, Linear2x2(), /*bf16=*/true).ok());
  absl::StatusOr<SafetensorsContents> f32_contents = ReadSafetensors(f32);
  absl::StatusOr<SafetensorsContents> bf16_contents = ReadSafetensors(bf16);
  ASSERT_TRUE(f32_contents.ok() && bf16_contents.ok());
  EXPECT_EQ(bf16_contents->tensors.at("map").bytes.size() * 2,
            f32_contents->tensors.at("map").bytes.size());
  absl::StatusOr<std::unique_ptr<Bridge>> b = Bridge::Load(bf16);
  ASSERT_TRUE(b.ok()) << b.status();
  // The 2x2 map's values are exact in bfloat16: the same [1, 8] as the float artifact.
  absl::StatusOr<codec::Tensor> y = (*b)->Apply(T({1, 2}, {3, 1}));
  ASSERT_TRUE(y.ok()) << y.status();
  EXPECT_NEAR(y->data[0], 1.0f, 1e-6);
  EXPECT_NEAR(y->data[1], 8.0f, 1e-6);
  absl::StatusOr<BridgeArtifact> read = ReadBridgeArtifact(bf16);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->metadata.kind, "affine");
}

TEST(BridgeTest, RefusesMismatchedModels) {
  absl::StatusOr<std::unique_ptr<Bridge>> b = Bridge::FromArtifact(Linear2x2());
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE((*b)->CheckModels("smol", "aaaa", "gemma", "bbbb").ok());
  absl::Status s = (*b)->CheckModels("smol", "aaaa", "gemma", "cccc");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("receiver fingerprint"), std::string::npos) << s;
  EXPECT_FALSE((*b)->CheckModels("smol", "zzzz", "gemma", "bbbb").ok());
  EXPECT_FALSE((*b)->CheckModels("gemma", "aaaa", "gemma", "bbbb").ok());
}

TEST(BridgeTest, RefusesBrokenArtifacts) {
  BridgeArtifact a = Linear2x2();
  a.tensors.erase("map");
  EXPECT_FALSE(Bridge::FromArtifact(a).ok());
  a = Linear2x2();
  a.tensors["map"] = T({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_FALSE(WriteBridgeArtifact(std::string(::testing::TempDir()) + "/x.bridge", a).ok());
  a = Linear2x2();
  a.metadata.kind = "magic";
  EXPECT_FALSE(Bridge::FromArtifact(a).ok());
}

// On float32 BLAS and on int8 products alike.
class BridgeConcurrencyTest : public ::testing::TestWithParam<const char*> {};

TEST_P(BridgeConcurrencyTest, ConcurrentApplyBatchIsDeterministic) {
  std::mt19937 rng(3);
  std::normal_distribution<float> g;
  BridgeArtifact a;
  a.metadata.kind = "procrustes";
  a.metadata.src_dim = 48;
  a.metadata.dst_dim = 40;
  auto random = [&](std::vector<uint32_t> shape, float base) {
    codec::Tensor t{shape, std::vector<float>(codec::NumElements(shape))};
    for (float& v : t.data) v = base + 0.1f * g(rng);
    return t;
  };
  a.tensors["src_mean"] = random({48}, 0);
  a.tensors["src_std"] = random({48}, 1);
  a.tensors["map"] = random({48, 40}, 0);
  a.tensors["dst_mean"] = random({40}, 0);
  a.tensors["dst_std"] = random({40}, 1);
  absl::StatusOr<std::unique_ptr<Bridge>> b = Bridge::FromArtifact(a, {GetParam()});
  ASSERT_TRUE(b.ok());
  std::vector<codec::Tensor> inputs;
  for (uint32_t t = 1; t <= 12; ++t) inputs.push_back(random({t, 48}, 0));
  absl::StatusOr<std::vector<codec::Tensor>> reference = (*b)->ApplyBatch(inputs);
  ASSERT_TRUE(reference.ok());
  ASSERT_EQ(reference->size(), inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_EQ((*reference)[i].shape, (std::vector<uint32_t>{inputs[i].shape[0], 40}));
    // Each input alone gives the same rows as inside the batch.
    absl::StatusOr<codec::Tensor> one = (*b)->Apply(inputs[i]);
    ASSERT_TRUE(one.ok());
    for (size_t k = 0; k < one->data.size(); ++k) {
      ASSERT_NEAR(one->data[k], (*reference)[i].data[k], 1e-4);
    }
  }
  std::vector<std::thread> threads;
  std::vector<int> mismatches(6, 0);
  for (int w = 0; w < 6; ++w) {
    threads.emplace_back([&, w] {
      for (int round = 0; round < 20; ++round) {
        absl::StatusOr<std::vector<codec::Tensor>> out = (*b)->ApplyBatch(inputs);
        if (!out.ok() || out->size() != reference->size()) {
          ++mismatches[w];
          continue;
        }
        for (size_t i = 0; i < out->size(); ++i) {
          if ((*out)[i].data != (*reference)[i].data) ++mismatches[w];
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int w = 0; w < 6; ++w) EXPECT_EQ(mismatches[w], 0) << "thread " << w;
}

// Normal values around `base` with standard deviation `spread`.
codec::Tensor RandomTensor(std::vector<uint32_t> shape, float base, float spread,
                           std::mt19937* rng) {
  std::normal_distribution<float> g;
  codec::Tensor t{shape, std::vector<float>(codec::NumElements(shape))};
  for (float& v : t.data) v = base + spread * g(*rng);
  return t;
}

// A 64 -> 48 adapter with random weights of realistic scale.
BridgeArtifact RandomAdapter(std::mt19937* rng) {
  BridgeArtifact a;
  a.metadata.kind = "adapter";
  a.metadata.src_dim = 64;
  a.metadata.dst_dim = 48;
  a.tensors["src_mean"] = RandomTensor({64}, 0, 1, rng);
  a.tensors["src_std"] = RandomTensor({64}, 2, 0.2f, rng);
  a.tensors["map"] = RandomTensor({64, 48}, 0, 0.125f, rng);
  a.tensors["bias"] = RandomTensor({48}, 0, 1, rng);
  a.tensors["up"] = RandomTensor({64, 16}, 0, 0.125f, rng);
  a.tensors["up_bias"] = RandomTensor({16}, 0, 1, rng);
  a.tensors["down"] = RandomTensor({16, 48}, 0, 0.25f, rng);
  return a;
}

TEST(BridgeTest, Int8KernelsTranslateCloseToBlasAndEachRowAsInABatch) {
  std::mt19937 rng(9);
  auto random = [&](std::vector<uint32_t> shape, float base, float spread) {
    return RandomTensor(std::move(shape), base, spread, &rng);
  };
  const BridgeArtifact a = RandomAdapter(&rng);
  absl::StatusOr<std::unique_ptr<Bridge>> blas = Bridge::FromArtifact(a, {"blas"});
  absl::StatusOr<std::unique_ptr<Bridge>> int8 = Bridge::FromArtifact(a, {"int8"});
  absl::StatusOr<std::unique_ptr<Bridge>> scalar = Bridge::FromArtifact(a, {"scalar"});
  ASSERT_TRUE(blas.ok() && int8.ok() && scalar.ok());
  EXPECT_STREQ((*blas)->kernels(), "blas");
  EXPECT_STREQ((*scalar)->kernels(), "scalar");
  std::vector<codec::Tensor> inputs;
  for (uint32_t t = 1; t <= 5; ++t) inputs.push_back(random({t, 64}, 0, 2));
  absl::StatusOr<std::vector<codec::Tensor>> want = (*blas)->ApplyBatch(inputs);
  absl::StatusOr<std::vector<codec::Tensor>> got = (*int8)->ApplyBatch(inputs);
  absl::StatusOr<std::vector<codec::Tensor>> reference = (*scalar)->ApplyBatch(inputs);
  ASSERT_TRUE(want.ok() && got.ok() && reference.ok());
  double err = 0, norm = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    ASSERT_EQ((*got)[i].shape, (*want)[i].shape);
    // Every variant gives the reference's bits; rows are rounded one by one, so an input
    // alone gives exactly its rows of the batch.
    EXPECT_EQ((*got)[i].data, (*reference)[i].data) << i;
    absl::StatusOr<codec::Tensor> one = (*int8)->Apply(inputs[i]);
    ASSERT_TRUE(one.ok());
    EXPECT_EQ(one->data, (*got)[i].data) << i;
    for (size_t k = 0; k < (*got)[i].data.size(); ++k) {
      const double d = (*got)[i].data[k] - (*want)[i].data[k];
      err += d * d;
      norm += double{(*want)[i].data[k]} * (*want)[i].data[k];
    }
  }
  EXPECT_LT(std::sqrt(err / norm), 0.03);
  EXPECT_FALSE((*int8)->Apply(T({1, 3}, {1, 2, 3})).ok());
}

TEST(BridgeTest, RefusesKernelsItCannotUse) {
  absl::StatusOr<std::unique_ptr<Bridge>> b = Bridge::FromArtifact(Linear2x2(), {"fastest"});
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(b.status().message().find("choose one of: auto, blas, int8, scalar"), std::string::npos)
      << b.status();
  BridgeArtifact resampler = Resampler(4, 4, 2, 1, 4);
  EXPECT_FALSE(Bridge::FromArtifact(resampler, {"int8"}).ok());
  absl::StatusOr<std::unique_ptr<Bridge>> fallback = Bridge::FromArtifact(resampler, {"auto"});
  ASSERT_TRUE(fallback.ok()) << fallback.status();
  EXPECT_STREQ((*fallback)->kernels(), "blas");
}

// On a GPU (libtorch with CUDA) every kind translates as on the CPU, to float rounding;
// without one the device is refused with the reason. Bad names are refused either way.
TEST(BridgeTest, TranslatesOnAGpuAsOnTheCpuOrSaysWhyNot) {
  for (const char* bad : {"gpu", "cuda:x", "cudaa", "cuda:-1"}) {
    absl::StatusOr<std::unique_ptr<Bridge>> b = Bridge::FromArtifact(Linear2x2(), {"", bad});
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument) << bad << b.status();
  }
  const char* require = std::getenv("LATENTBUS_REQUIRE_CUDA");
  absl::StatusOr<std::unique_ptr<Bridge>> probe = Bridge::FromArtifact(Linear2x2(), {"", "cuda"});
  if (!probe.ok()) {
    EXPECT_EQ(probe.status().code(), absl::StatusCode::kFailedPrecondition) << probe.status();
    EXPECT_NE(probe.status().message().find("no GPU"), std::string::npos) << probe.status();
    if (require != nullptr && std::string(require) == "1") FAIL() << probe.status();
    GTEST_SKIP() << probe.status();
  }
  EXPECT_STREQ((*probe)->kernels(), "cuda");
  EXPECT_EQ(Bridge::FromArtifact(Linear2x2(), {"int8", "cuda"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Bridge::FromArtifact(Linear2x2(), {"", "cuda:4096"}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  std::mt19937 rng(11);
  auto random = [&](std::vector<uint32_t> shape, float base, float spread) {
    return RandomTensor(std::move(shape), base, spread, &rng);
  };
  BridgeArtifact adapter = RandomAdapter(&rng);
  BridgeArtifact resampler = Resampler(64, 48, 4, 2, 32);
  for (auto& [name, t] : resampler.tensors) t = random(t.shape, 0, 0.2f);
  for (const BridgeArtifact* a : {&adapter, &resampler}) {
    absl::StatusOr<std::unique_ptr<Bridge>> cpu = Bridge::FromArtifact(*a, {"blas"});
    absl::StatusOr<std::unique_ptr<Bridge>> gpu = Bridge::FromArtifact(*a, {"blas", "cuda"});
    ASSERT_TRUE(cpu.ok() && gpu.ok()) << a->metadata.kind;
    std::vector<codec::Tensor> inputs;
    for (uint32_t t = 1; t <= 5; ++t) inputs.push_back(random({t, 64}, 0, 2));
    absl::StatusOr<std::vector<codec::Tensor>> want = (*cpu)->ApplyBatch(inputs);
    absl::StatusOr<std::vector<codec::Tensor>> got = (*gpu)->ApplyBatch(inputs);
    ASSERT_TRUE(want.ok() && got.ok()) << a->metadata.kind;
    for (size_t i = 0; i < inputs.size(); ++i) {
      ASSERT_EQ((*got)[i].shape, (*want)[i].shape);
      for (size_t k = 0; k < (*got)[i].data.size(); ++k) {
        // float32 products summed in another order: docs/GPU.md's tolerance.
        EXPECT_NEAR((*got)[i].data[k], (*want)[i].data[k],
                    1e-4 * (1 + std::fabs((*want)[i].data[k])))
            << a->metadata.kind << " input " << i << " value " << k;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Kernels, BridgeConcurrencyTest, ::testing::Values("blas", "int8"));

void ExpectNear(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5) << i;
}

BridgeArtifact Resampler(uint32_t ds, uint32_t dt, uint32_t k, uint32_t heads, uint32_t inner) {
  BridgeArtifact a;
  a.metadata.kind = "resampler";
  a.metadata.src_dim = ds;
  a.metadata.dst_dim = dt;
  a.metadata.num_queries = k;
  a.metadata.num_heads = heads;
  a.tensors["queries"] = T({k, dt}, std::vector<float>(k * dt, 0));
  a.tensors["wq"] = T({dt, inner}, std::vector<float>(dt * inner, 0));
  a.tensors["wk"] = T({ds, inner}, std::vector<float>(ds * inner, 0));
  a.tensors["wv"] = T({ds, inner}, std::vector<float>(ds * inner, 0));
  a.tensors["wo"] = T({inner, dt}, std::vector<float>(inner * dt, 0));
  a.tensors["bo"] = T({dt}, std::vector<float>(dt, 0));
  return a;
}

TEST(BridgeTest, ResamplerMatchesAHandComputedAttention) {
  // One query, one head of width 1: q = 0.5, keys = x, values = 2x, T = 2.
  BridgeArtifact a = Resampler(1, 1, 1, 1, 1);
  a.tensors["queries"].data = {0.5f};
  a.tensors["wq"].data = {1};
  a.tensors["wk"].data = {1};
  a.tensors["wv"].data = {2};
  a.tensors["wo"].data = {1};
  a.tensors["bo"].data = {0.25f};
  const std::string path = std::string(::testing::TempDir()) + "/r.bridge";
  ASSERT_TRUE(WriteBridgeArtifact(path, a).ok());
  absl::StatusOr<std::unique_ptr<Bridge>> b = Bridge::Load(path);
  ASSERT_TRUE(b.ok()) << b.status();
  const float ln3 = std::log(3.0f);
  absl::StatusOr<codec::Tensor> y = (*b)->Apply(T({2, 1}, {0, ln3}));
  ASSERT_TRUE(y.ok()) << y.status();
  // scores [0, 0.5 ln 3] -> weights [1, sqrt 3] / (1 + sqrt 3); values [0, 2 ln 3].
  const float w1 = std::sqrt(3.0f) / (1 + std::sqrt(3.0f));
  EXPECT_EQ(y->shape, (std::vector<uint32_t>{1, 1}));
  EXPECT_NEAR(y->data[0], 0.5f + w1 * 2 * ln3 + 0.25f, 1e-5);  // 2.14298
  EXPECT_NEAR(y->data[0], 2.14298f, 1e-4);
}

TEST(BridgeTest, ResamplerMapsVariableLengthsToKQueries) {
  // Two heads; wq = 0 makes attention uniform, so each output row is
  // queries[k] + mean_t(x_t wv) wo + bo. wv copies x into both heads, wo sums them.
  const uint32_t ds = 2, dt = 2, k = 3, heads = 2, inner = 4;
  BridgeArtifact a = Resampler(ds, dt, k, heads, inner);
  a.tensors["queries"].data = {1, 2, 3, 4, 5, 6};
  a.tensors["wk"].data = {1, 2, 3, 4, 5, 6, 7, 8};
  a.tensors["wv"].data = {1, 0, 1, 0,   // x0 -> head 0 dim 0 and head 1 dim 0
                          0, 1, 0, 1};  // x1 -> head 0 dim 1 and head 1 dim 1
  a.tensors["wo"].data = {1, 0, 0, 1, 1, 0, 0, 1};
  a.tensors["bo"].data = {0.5f, -0.5f};
  absl::StatusOr<std::unique_ptr<Bridge>> b = Bridge::FromArtifact(a);
  ASSERT_TRUE(b.ok()) << b.status();
  absl::StatusOr<std::vector<codec::Tensor>> out =
      (*b)->ApplyBatch({T({1, 2}, {1, 2}), T({4, 2}, {1, 0, 3, 0, 0, 4, 0, 8})});
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), 2u);
  // Input 0: mean x = [1, 2] -> +2*[1, 2] + bo = [2.5, 3.5] added to each query.
  EXPECT_EQ((*out)[0].shape, (std::vector<uint32_t>{3, 2}));
  ExpectNear((*out)[0].data, {3.5f, 5.5f, 5.5f, 7.5f, 7.5f, 9.5f});
  // Input 1: mean x = [1, 3] -> [2.5, 5.5].
  EXPECT_EQ((*out)[1].shape, (std::vector<uint32_t>{3, 2}));
  ExpectNear((*out)[1].data, {3.5f, 7.5f, 5.5f, 9.5f, 7.5f, 11.5f});
}

}  // namespace
}  // namespace latentbus::bridge
