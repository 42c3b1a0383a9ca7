#include "bridge/int8_bridge.h"

#include "absl/strings/str_cat.h"
#include "bridge/bridge_kind.h"
#include "bridge/gelu.h"

namespace latentbus::bridge {
absl::StatusOr<std::unique_ptr<Int8Bridge>> Int8Bridge::Create(const BridgeArtifact& artifact,
                                                               const Int8MatmulKernels& kernels) {
  absl::StatusOr<BridgeKindSpec> kind = FindBridgeKind(artifact.metadata.kind);
  if (!kind.ok()) return kind.status();
  if (!kind->linear && kind->kind != BridgeKind::kAdapter) {
    return absl::InvalidArgumentError(
        absl::StrCat("bridge kind '", kind->name, "' has no int8 form"));
  }
  const size_t ds = static_cast<size_t>(artifact.metadata.src_dim);
  const size_t dt = static_cast<size_t>(artifact.metadata.dst_dim);
  if (ds > kInt8MaxDepth) {
    return absl::InvalidArgumentError(
        absl::StrCat("int8 products take at most ", kInt8MaxDepth, " inputs, the bridge has ", ds));
  }
  auto t = [&](const char* name) -> const std::vector<float>& {
    return artifact.tensors.at(name).data;
  };
  std::unique_ptr<Int8Bridge> b(new Int8Bridge());
  b->kernels_ = &kernels;
  b->src_dim_ = ds;
  b->dst_dim_ = dt;
  b->src_mean_ = t("src_mean");
  b->src_inv_std_.resize(ds);
  for (size_t i = 0; i < ds; ++i) b->src_inv_std_[i] = 1.0f / t("src_std")[i];
  if (kind->linear) {
    std::vector<float> map = t("map");
    const std::vector<float>& dst_std = t("dst_std");
    for (size_t r = 0; r < ds; ++r) {
      for (size_t c = 0; c < dt; ++c) map[r * dt + c] *= dst_std[c];
    }
    b->map_ = Int8Matrix::FromFloat(map.data(), ds, dt);
    b->bias_ = t("dst_mean");
  } else {
    b->map_ = Int8Matrix::FromFloat(t("map").data(), ds, dt);
    b->bias_ = t("bias");
    b->hidden_ = artifact.tensors.at("up").shape[1];
    b->up_ = Int8Matrix::FromFloat(t("up").data(), ds, b->hidden_);
    b->up_bias_ = t("up_bias");
    b->down_ = Int8Matrix::FromFloat(t("down").data(), b->hidden_, dt);
  }
  return b;
}

void Int8Bridge::Apply(const float* x, size_t rows, float* y) const {
  std::vector<float> z(rows * src_dim_);
  for (size_t i = 0; i < rows; ++i) {
    for (size_t c = 0; c < src_dim_; ++c) {
      z[i * src_dim_ + c] = (x[i * src_dim_ + c] - src_mean_[c]) * src_inv_std_[c];
    }
  }
  Int8Rows zq;
  zq.Quantize(z.data(), rows, src_dim_, map_.k(), *kernels_);
  kernels_->matmul(map_.view(), zq.view(), bias_.data(), /*accumulate=*/false, y, dst_dim_);
  if (hidden_ == 0) return;
  std::vector<float> h(rows * hidden_);
  kernels_->matmul(up_.view(), zq.view(), up_bias_.data(), /*accumulate=*/false, h.data(), hidden_);
  for (float& v : h) v = GeluTanh(v);
  Int8Rows hq;
  hq.Quantize(h.data(), rows, hidden_, down_.k(), *kernels_);
  kernels_->matmul(down_.view(), hq.view(), nullptr, /*accumulate=*/true, y, dst_dim_);
}

}  // namespace latentbus::bridge
