// Int8Bridge against the float definition of each kind, computed here in double precision.
#include "bridge/int8_bridge.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "bridge/gelu.h"
#include "gtest/gtest.h"

namespace latentbus::bridge {
namespace {

codec::Tensor Normal(std::vector<uint32_t> shape, std::mt19937* rng, float mean, float stddev) {
  std::normal_distribution<float> dist(mean, stddev);
  codec::Tensor t;
  t.shape = std::move(shape);
  t.data.resize(codec::NumElements(t.shape));
  for (float& v : t.data) v = dist(*rng);
  return t;
}

BridgeArtifact Synthetic(const std::string& kind, uint32_t ds, uint32_t dt, uint32_t hidden,
                         std::mt19937* rng) {
  BridgeArtifact a;
  a.metadata.kind = kind;
  a.metadata.src_dim = ds;
  a.metadata.dst_dim = dt;
  a.tensors["src_mean"] = Normal({ds}, rng, 0, 1);
  a.tensors["src_std"] = Normal({ds}, rng, 2, 0.3f);
  a.tensors["map"] = Normal({ds, dt}, rng, 0, 1 / std::sqrt(float(ds)));
  if (kind == "adapter") {
    a.tensors["bias"] = Normal({dt}, rng, 0, 1);
    a.tensors["up"] = Normal({ds, hidden}, rng, 0, 1 / std::sqrt(float(ds)));
    a.tensors["up_bias"] = Normal({hidden}, rng, 0, 1);
    a.tensors["down"] = Normal({hidden, dt}, rng, 0, 1 / std::sqrt(float(hidden)));
  } else {
    a.tensors["dst_mean"] = Normal({dt}, rng, 0, 1);
    a.tensors["dst_std"] = Normal({dt}, rng, 1, 0.1f);
  }
  return a;
}

// The kind's definition (int8_bridge.h) in double precision.
std::vector<double> Reference(const BridgeArtifact& a, const std::vector<float>& x, size_t rows) {
  const size_t ds = a.metadata.src_dim, dt = a.metadata.dst_dim;
  auto at = [&](const char* name, size_t i) { return double{a.tensors.at(name).data[i]}; };
  std::vector<double> y(rows * dt);
  const bool adapter = a.metadata.kind == "adapter";
  const size_t hidden = adapter ? a.tensors.at("up").shape[1] : 0;
  for (size_t i = 0; i < rows; ++i) {
    std::vector<double> z(ds);
    for (size_t c = 0; c < ds; ++c) z[c] = (x[i * ds + c] - at("src_mean", c)) / at("src_std", c);
    std::vector<double> h(hidden);
    for (size_t u = 0; u < hidden; ++u) {
      double s = at("up_bias", u);
      for (size_t c = 0; c < ds; ++c) s += z[c] * at("up", c * hidden + u);
      h[u] = 0.5 * s * (1 + std::tanh(std::sqrt(2 / M_PI) * (s + 0.044715 * s * s * s)));
    }
    for (size_t j = 0; j < dt; ++j) {
      double s = 0;
      for (size_t c = 0; c < ds; ++c) s += z[c] * at("map", c * dt + j);
      if (adapter) {
        s += at("bias", j);
        for (size_t u = 0; u < hidden; ++u) s += h[u] * at("down", u * dt + j);
      } else {
        s = s * at("dst_std", j) + at("dst_mean", j);
      }
      y[i * dt + j] = s;
    }
  }
  return y;
}

TEST(Int8BridgeTest, EachKindFollowsItsFloatDefinitionWithinTheRounding) {
  std::mt19937 rng(5);
  for (const char* kind : {"affine", "procrustes", "adapter"}) {
    const BridgeArtifact a = Synthetic(kind, 96, 40, 32, &rng);
    absl::StatusOr<std::unique_ptr<Int8Bridge>> b =
        Int8Bridge::Create(a, BestInt8MatmulKernels(codec::DetectCpuFeatures()));
    ASSERT_TRUE(b.ok()) << b.status();
    const size_t rows = 7;
    // Hidden-state-like rows: the source mean plus noise, and one huge channel.
    std::vector<float> x = Normal({uint32_t(rows), 96}, &rng, 0, 2).data;
    for (size_t i = 0; i < rows; ++i) x[i * 96 + 3] += 300;
    std::vector<float> y(rows * 40);
    (*b)->Apply(x.data(), rows, y.data());
    const std::vector<double> want = Reference(a, x, rows);
    double err = 0, norm = 0;
    for (size_t i = 0; i < y.size(); ++i) {
      err += (y[i] - want[i]) * (y[i] - want[i]);
      norm += want[i] * want[i];
    }
    // Two int8 roundings (weights per column, rows per row) cost ~1% of the norm.
    EXPECT_LT(std::sqrt(err / norm), 0.03) << kind;
    EXPECT_GT(std::sqrt(err / norm), 1e-5) << kind << ": suspiciously exact";
  }
}

TEST(GeluTest, FollowsTorchsTanhFormAcrossTheRange) {
  double worst = 0;
  for (int i = -200000; i <= 200000; ++i) {
    const double x = i * 1e-4;  // [-20, 20]
    const double want = 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
    worst = std::max(
        worst, std::fabs(GeluTanh(static_cast<float>(x)) - want) / std::max(1.0, std::fabs(x)));
  }
  EXPECT_LT(worst, 1e-6);
  for (float t : {-87.0f, -10.0f, -1.0f, 0.0f, 0.3466f, 1.0f, 20.0f, 88.0f}) {
    EXPECT_NEAR(VectorizableExp(t) / std::exp(double{t}), 1.0, 3e-7) << t;
  }
  EXPECT_NEAR(GeluTanh(-1e30f), 0.0f, 1e-8);  // e^(-2u) saturates at e^88
  EXPECT_EQ(GeluTanh(1e30f), 1e30f);
  EXPECT_TRUE(std::isnan(GeluTanh(std::nanf(""))));
}

TEST(Int8BridgeTest, RefusesTheResampler) {
  BridgeArtifact a;
  a.metadata.kind = "resampler";
  absl::StatusOr<std::unique_ptr<Int8Bridge>> b = Int8Bridge::Create(a, ScalarInt8MatmulKernels());
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("no int8 form"), std::string::npos);
}

}  // namespace
}  // namespace latentbus::bridge
