#include "bridge/fit.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "bridge/bridge.h"
#include "bridge/bridge_kind.h"
#include "bridge/fidelity.h"
#include "torch_edge/torch_edge.h"

namespace latentbus::bridge {
namespace {

struct Normalizer {
  torch::Tensor mean, std;  // [d] float32
};

Normalizer Stats(const torch::Tensor& x) {
  torch::Tensor mean = x.mean(0);
  torch::Tensor std = x.std(0, /*unbiased=*/false);
  // Constant dimensions keep a unit scale rather than dividing by zero.
  std = torch::where(std > 1e-6, std, torch::ones_like(std));
  return {mean, std};
}

// Ridge in normalized space: W = (Zx^T Zx / n + lambda I)^-1 Zx^T Zy / n, in float64.
torch::Tensor Ridge(const torch::Tensor& zx, const torch::Tensor& zy, double lambda) {
  torch::Tensor x = zx.to(torch::kFloat64), y = zy.to(torch::kFloat64);
  const double n = static_cast<double>(x.size(0));
  torch::Tensor g = torch::matmul(x.t(), x) / n;
  g = g + lambda * torch::eye(g.size(0), torch::kFloat64);
  return torch::linalg_solve(g, torch::matmul(x.t(), y) / n).to(torch::kFloat32);
}

// Scaled orthogonal map (Procrustes) from zx [n, ds] to zy [n, dt], as [ds, dt].
torch::Tensor Procrustes(const torch::Tensor& zx, const torch::Tensor& zy, double* scale) {
  const int64_t ds = zx.size(1), dt = zy.size(1), k = std::max(ds, dt);
  torch::Tensor x = torch::zeros({zx.size(0), k}, torch::kFloat64);
  torch::Tensor y = torch::zeros({zy.size(0), k}, torch::kFloat64);
  x.slice(1, 0, ds).copy_(zx);
  y.slice(1, 0, dt).copy_(zy);
  auto [u, s, vh] = torch::linalg_svd(torch::matmul(x.t(), y), /*full_matrices=*/false);
  torch::Tensor r = torch::matmul(u, vh);
  *scale = (s.sum() / (x * x).sum()).item<double>();
  return (r.slice(0, 0, ds).slice(1, 0, dt) * *scale).to(torch::kFloat32);
}

double MeanCosine(const torch::Tensor& a, const torch::Tensor& b) {
  return torch::cosine_similarity(a, b, 1).mean().item<double>();
}

}  // namespace

absl::StatusOr<BridgeArtifact> FitOnPairs(const WordPairs& train, const FitOptions& options) {
  const std::string& kind = options.kind;
  absl::StatusOr<BridgeKindSpec> spec = FindBridgeKind(kind);
  if (!spec.ok()) return spec.status();
  if (!spec->fittable) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot fit a bridge of kind '", kind, "' (fit computes ",
        absl::StrJoin(FittableBridgeKinds(), ", "), "; adapters are trained: bridge train)"));
  }
  const int64_t n = static_cast<int64_t>(train.size());
  if (n < 2) return absl::InvalidArgumentError("too few word pairs to fit a bridge");
  BridgeArtifact artifact;
  BridgeMetadata& m = artifact.metadata;
  m.kind = kind;
  m.src_dim = train.src_width;
  m.dst_dim = train.dst_width;
  try {
    torch::NoGradGuard no_grad;
    torch::Tensor x = torch::from_blob(const_cast<float*>(train.src.data()), {n, train.src_width},
                                       torch::kFloat32);
    torch::Tensor y = torch::from_blob(const_cast<float*>(train.dst.data()), {n, train.dst_width},
                                       torch::kFloat32);
    const Normalizer ns = Stats(x), nd = Stats(y);
    torch::Tensor zx = (x - ns.mean) / ns.std;
    torch::Tensor zy = (y - nd.mean) / nd.std;
    torch::Tensor map;
    m.fit["pairs"] = static_cast<double>(n);
    if (kind == "procrustes") {
      double scale = 0;
      map = Procrustes(zx, zy, &scale);
      m.fit["scale"] = scale;
    } else {
      // Choose lambda on validation items, then refit on everything.
      std::vector<int64_t> fit_rows, val_rows;
      for (int64_t i = 0; i < n; ++i) (train.item[i] % 7 == 3 ? val_rows : fit_rows).push_back(i);
      double best_lambda = 1e-2;
      if (val_rows.size() >= 2 && fit_rows.size() >= 2) {
        torch::Tensor fi = torch::tensor(fit_rows, torch::kInt64);
        torch::Tensor vi = torch::tensor(val_rows, torch::kInt64);
        double best = -std::numeric_limits<double>::infinity();
        for (double lambda : options.ridge_grid) {
          torch::Tensor w = Ridge(zx.index_select(0, fi), zy.index_select(0, fi), lambda);
          torch::Tensor pred = torch::matmul(zx.index_select(0, vi), w) * nd.std + nd.mean;
          const double cos = MeanCosine(pred, y.index_select(0, vi));
          m.fit[absl::StrCat("val_cosine_lambda_", lambda)] = cos;
          if (cos > best) {
            best = cos;
            best_lambda = lambda;
          }
        }
      }
      m.fit["lambda"] = best_lambda;
      map = Ridge(zx, zy, best_lambda);
    }
    torch::Tensor pred = torch::matmul(zx, map) * nd.std + nd.mean;
    m.fit["train_cosine"] = MeanCosine(pred, y);
    artifact.tensors["src_mean"] = torch_edge::FromTorch(ns.mean);
    artifact.tensors["src_std"] = torch_edge::FromTorch(ns.std);
    artifact.tensors["map"] = torch_edge::FromTorch(map);
    artifact.tensors["dst_mean"] = torch_edge::FromTorch(nd.mean);
    artifact.tensors["dst_std"] = torch_edge::FromTorch(nd.std);
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("libtorch: ", e.what_without_backtrace()));
  }
  return artifact;
}

absl::StatusOr<BridgeArtifact> FitBridge(const ActivationFile& src, const ActivationFile& dst,
                                         int layer, const FitOptions& options) {
  if (options.kind == "self" &&
      (src.model_id != dst.model_id || src.fingerprint != dst.fingerprint)) {
    return absl::InvalidArgumentError(absl::StrCat("a self bridge maps a model onto itself; got ",
                                                   src.model_id, " and ", dst.model_id));
  }
  if (src.corpus_hash != dst.corpus_hash) {
    return absl::InvalidArgumentError("the activation files were made from different corpora");
  }
  absl::StatusOr<WordPairs> train = AlignWords({&src, layer}, {&dst, -1}, "train");
  if (!train.ok()) return train.status();
  absl::StatusOr<BridgeArtifact> artifact = FitOnPairs(*train, options);
  if (!artifact.ok()) return artifact.status();
  BridgeMetadata& m = artifact->metadata;
  m.src_model_id = src.model_id;
  m.src_fingerprint = src.fingerprint;
  m.dst_model_id = dst.model_id;
  m.dst_fingerprint = dst.fingerprint;
  m.layer = layer;
  m.corpus_hash = src.corpus_hash;
  absl::StatusOr<std::unique_ptr<Bridge>> bridge = Bridge::FromArtifact(*artifact);
  if (!bridge.ok()) return bridge.status();
  absl::StatusOr<Fidelity> fidelity = EvaluateBridge(**bridge, src, dst);
  if (!fidelity.ok()) return fidelity.status();
  m.fidelity = fidelity->ToMap();
  return artifact;
}

}  // namespace latentbus::bridge
