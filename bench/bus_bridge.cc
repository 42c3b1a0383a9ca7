#include "bench/bus_bridge.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/timing.h"
#include "bridge/bridge.h"
#include "bridge/bridge_artifact.h"
#include "bridge/fit.h"
#include "bridge/word_align.h"
#include "broker/artifact_bridge.h"
#include "broker/translator.h"
#include "broker/validation.h"
#include "codec/synthetic.h"

namespace latentbus::bench {
namespace {

codec::Tensor Filled(std::vector<uint32_t> shape, float value) {
  codec::Tensor t;
  t.shape = std::move(shape);
  t.data.assign(codec::NumElements(t.shape), value);
  return t;
}

// y = x W (+ noise) through a bridge built from W itself, so libtorch does the product.
absl::StatusOr<codec::Tensor> Targets(const bridge::Bridge& truth, const codec::Tensor& x,
                                      float noise, uint64_t seed) {
  absl::StatusOr<codec::Tensor> y = truth.Apply(x);
  if (!y.ok()) return y.status();
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> n(0.0f, noise);
  for (float& v : y->data) v += n(rng);
  return y;
}

double MeanCosine(const codec::Tensor& a, const codec::Tensor& b) {
  const size_t rows = a.rows(), width = a.width();
  double sum = 0;
  for (size_t r = 0; r < rows; ++r) {
    double dot = 0, na = 0, nb = 0;
    for (size_t c = 0; c < width; ++c) {
      const double x = a.data[r * width + c], y = b.data[r * width + c];
      dot += x * y;
      na += x * x;
      nb += y * y;
    }
    sum += dot / std::sqrt(na * nb + 1e-30);
  }
  return rows == 0 ? 0.0 : sum / static_cast<double>(rows);
}

absl::StatusOr<broker::BridgeInfo> LoadInfo(const std::string& path) {
  v1::LoadBridgeRequest request;
  request.set_path(path);
  absl::StatusOr<std::shared_ptr<const broker::Bridge>> b = broker::ArtifactBridgeLoader()(request);
  if (!b.ok()) return b.status();
  return (*b)->info();
}

}  // namespace

absl::StatusOr<std::unique_ptr<BenchBridge>> BenchBridge::FromFile(const std::string& path) {
  absl::StatusOr<broker::BridgeInfo> info = LoadInfo(path);
  if (!info.ok()) return info.status();
  if (info->kind == "resampler") {
    return absl::InvalidArgumentError(
        "bench bus takes a linear bridge (self, affine, procrustes), not a resampler");
  }
  std::unique_ptr<BenchBridge> b(new BenchBridge());
  b->path_ = path;
  b->info_ = *std::move(info);
  b->description_ = absl::StrCat("artifact ", path, " (", b->info_.kind, " ", b->info_.src_dim,
                                 "->", b->info_.dst_dim, ")");
  return b;
}

absl::StatusOr<std::unique_ptr<BenchBridge>> BenchBridge::Synthetic(const broker::ModelKey& src,
                                                                    const broker::ModelKey& dst,
                                                                    int layer, uint32_t src_dim,
                                                                    uint32_t dst_dim) {
  // The ground truth W: N(0, 1/src_dim) entries.
  bridge::BridgeArtifact truth;
  truth.metadata.kind = "affine";
  truth.metadata.src_dim = src_dim;
  truth.metadata.dst_dim = dst_dim;
  truth.tensors["src_mean"] = Filled({src_dim}, 0.0f);
  truth.tensors["src_std"] = Filled({src_dim}, 1.0f);
  truth.tensors["dst_mean"] = Filled({dst_dim}, 0.0f);
  truth.tensors["dst_std"] = Filled({dst_dim}, 1.0f);
  codec::Tensor w = codec::GaussianTensor(src_dim, dst_dim, 11);
  const float scale = 1.0f / std::sqrt(static_cast<float>(src_dim));
  for (float& v : w.data) v *= scale;
  truth.tensors["map"] = std::move(w);
  absl::StatusOr<std::unique_ptr<bridge::Bridge>> truth_bridge =
      bridge::Bridge::FromArtifact(truth);
  if (!truth_bridge.ok()) return truth_bridge.status();

  constexpr uint32_t kTrain = 2048, kHeldOut = 512;
  const codec::Tensor x_train = codec::OutlierTensor(kTrain, src_dim, 1);
  const codec::Tensor x_held = codec::OutlierTensor(kHeldOut, src_dim, 2);
  absl::StatusOr<codec::Tensor> y_train = Targets(**truth_bridge, x_train, 0.05f, 3);
  absl::StatusOr<codec::Tensor> y_held = Targets(**truth_bridge, x_held, 0.05f, 4);
  if (!y_train.ok()) return y_train.status();
  if (!y_held.ok()) return y_held.status();

  bridge::WordPairs pairs;
  pairs.src_width = src_dim;
  pairs.dst_width = dst_dim;
  pairs.src = x_train.data;
  pairs.dst = y_train->data;
  for (uint32_t i = 0; i < kTrain; ++i) pairs.item.push_back(i);
  pairs.words.assign(kTrain, "synthetic");
  bridge::FitOptions fit;
  fit.kind = "affine";
  absl::StatusOr<bridge::BridgeArtifact> artifact = bridge::FitOnPairs(pairs, fit);
  if (!artifact.ok()) return artifact.status();
  bridge::BridgeMetadata& m = artifact->metadata;
  m.src_model_id = src.model_id;
  m.src_fingerprint = src.fingerprint;
  m.dst_model_id = dst.model_id;
  m.dst_fingerprint = dst.fingerprint;
  m.layer = layer;
  m.corpus_hash = "synthetic";
  absl::StatusOr<std::unique_ptr<bridge::Bridge>> fitted = bridge::Bridge::FromArtifact(*artifact);
  if (!fitted.ok()) return fitted.status();
  absl::StatusOr<codec::Tensor> translated = (*fitted)->Apply(x_held);
  if (!translated.ok()) return translated.status();
  m.fidelity["cosine"] = MeanCosine(*translated, *y_held);

  std::unique_ptr<BenchBridge> b(new BenchBridge());
  char path[] = "/tmp/latentbus-bench-bridge-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return absl::UnavailableError("cannot create a temporary bridge file");
  close(fd);
  b->path_ = path;
  b->temporary_ = true;
  if (absl::Status s = bridge::WriteBridgeArtifact(b->path_, *artifact); !s.ok()) return s;
  absl::StatusOr<broker::BridgeInfo> info = LoadInfo(b->path_);
  if (!info.ok()) return info.status();
  b->info_ = *std::move(info);
  b->description_ = absl::StrCat("synthetic-fit affine ", src_dim, "->", dst_dim);
  return b;
}

BenchBridge::~BenchBridge() {
  if (temporary_) std::remove(path_.c_str());
}

absl::StatusOr<double> BenchBridge::IsolatedTranslationSeconds(const v1::LatentPacket& packet,
                                                               const v1::ModelSpec& sender,
                                                               const codec::Encoding& target,
                                                               const std::string& kernels) const {
  v1::LoadBridgeRequest request;
  request.set_path(path_);
  absl::StatusOr<std::shared_ptr<const broker::Bridge>> bridge =
      broker::ArtifactBridgeLoader(kernels)(request);
  if (!bridge.ok()) return bridge.status();
  // What the broker's validation hands its translator.
  absl::StatusOr<broker::AcceptedLatent> latent = broker::ValidateLatent(packet, sender);
  if (!latent.ok()) return latent.status();
  const broker::TranslationTarget to{info_.dst, info_.dst_dim, target};
  const broker::BridgeTranslator translator;
  const broker::AcceptedLatent* const one[] = {&*latent};
  absl::Status failed;
  const double seconds = MedianSecondsPerCall([&] {
    absl::StatusOr<std::vector<codec::Packet>> out = translator.Translate(**bridge, one, to);
    if (!out.ok()) failed = out.status();
  });
  if (!failed.ok()) return failed;
  return seconds;
}

}  // namespace latentbus::bench
