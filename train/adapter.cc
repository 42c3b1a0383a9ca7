#include "train/adapter.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "bridge/bridge_kind.h"
#include "torch_edge/torch_edge.h"

namespace latentbus::train {

using torch_edge::FromTorch;
using torch_edge::ToTorch;

absl::StatusOr<Adapter> Adapter::FromLinear(const bridge::BridgeArtifact& linear, int64_t rank,
                                            uint64_t seed) {
  const std::string& kind = linear.metadata.kind;
  absl::StatusOr<bridge::BridgeKindSpec> spec = bridge::FindBridgeKind(kind);
  if (!spec.ok() || !spec->linear) {
    return absl::InvalidArgumentError(
        absl::StrCat("an adapter starts from a linear bridge, not from kind '", kind, "'"));
  }
  if (rank < 1) return absl::InvalidArgumentError("adapter rank must be >= 1");
  if (absl::Status s = bridge::ValidateBridgeArtifact(linear); !s.ok()) return s;
  torch::NoGradGuard no_grad;
  auto t = [&](const char* name) { return ToTorch(linear.tensors.at(name)); };
  AdapterParameters p;
  p.src_mean = t("src_mean");
  p.src_std = t("src_std");
  p.map = (t("map") * t("dst_std").unsqueeze(0)).contiguous();
  p.bias = t("dst_mean");
  const int64_t ds = p.map.size(0), dt = p.map.size(1);
  torch::Generator gen = torch::make_generator<torch::CPUGeneratorImpl>(seed);
  // Unit-variance inputs (z) through up give unit-variance pre-activations.
  p.up = torch::randn({ds, rank}, gen, torch::kFloat32) / std::sqrt(static_cast<double>(ds));
  p.up_bias = torch::zeros({rank});
  p.down = torch::zeros({rank, dt});
  for (torch::Tensor* x : {&p.map, &p.bias, &p.up, &p.up_bias, &p.down}) x->requires_grad_(true);
  return Adapter(std::move(p));
}

absl::StatusOr<Adapter> Adapter::FromArtifact(const bridge::BridgeArtifact& adapter) {
  if (adapter.metadata.kind != "adapter") {
    return absl::InvalidArgumentError(
        absl::StrCat("expected an adapter artifact, got kind '", adapter.metadata.kind, "'"));
  }
  if (absl::Status s = bridge::ValidateBridgeArtifact(adapter); !s.ok()) return s;
  auto t = [&](const char* name) { return ToTorch(adapter.tensors.at(name)); };
  AdapterParameters p{t("src_mean"), t("src_std"), t("map"), t("bias"),
                      t("up"),       t("up_bias"), t("down")};
  for (torch::Tensor* x : {&p.map, &p.bias, &p.up, &p.up_bias, &p.down}) x->requires_grad_(true);
  return Adapter(std::move(p));
}

torch::Tensor Adapter::Forward(const torch::Tensor& x) const {
  const torch::Tensor z = (x - p_.src_mean) / p_.src_std;
  return torch::addmm(p_.bias, z, p_.map) +
         torch::matmul(torch::gelu(torch::addmm(p_.up_bias, z, p_.up), "tanh"), p_.down);
}

std::vector<torch::Tensor> Adapter::Trained() const {
  return {p_.map, p_.bias, p_.up, p_.up_bias, p_.down};
}

bridge::BridgeArtifact Adapter::ToArtifact(const bridge::BridgeMetadata& base) const {
  bridge::BridgeArtifact a;
  a.metadata = base;
  a.metadata.kind = "adapter";
  a.metadata.src_dim = src_dim();
  a.metadata.dst_dim = dst_dim();
  a.metadata.num_queries = 0;
  a.metadata.num_heads = 0;
  a.tensors["src_mean"] = FromTorch(p_.src_mean);
  a.tensors["src_std"] = FromTorch(p_.src_std);
  a.tensors["map"] = FromTorch(p_.map);
  a.tensors["bias"] = FromTorch(p_.bias);
  a.tensors["up"] = FromTorch(p_.up);
  a.tensors["up_bias"] = FromTorch(p_.up_bias);
  a.tensors["down"] = FromTorch(p_.down);
  return a;
}

}  // namespace latentbus::train
