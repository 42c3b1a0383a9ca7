// The bridge `latentbus bench bus` puts on the broker's path so that translation cost
// shows: a real bridge/ artifact given by the user, or, on a fresh machine, an affine
// bridge of the right dims fitted in-process with bridge/'s own fitting code
// (bridge::FitOnPairs) on synthetic paired data and written to a temporary artifact.
// Either way the broker loads it through broker::ArtifactBridgeLoader, as in production.
//
// Thread safety: BenchBridge is immutable after creation.
#ifndef LATENTBUS_BENCH_BUS_BRIDGE_H_
#define LATENTBUS_BENCH_BUS_BRIDGE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "broker/bridge.h"
#include "codec/encoding.h"
#include "latentbus/v1/latent.pb.h"
#include "latentbus/v1/model.pb.h"

namespace latentbus::bench {

class BenchBridge {
 public:
  // Loads `path` through broker::ArtifactBridgeLoader to learn its models and dims.
  // Only linear kinds (self, affine, procrustes) keep [T, d] -> [T, d'] shapes; a
  // resampler is refused (InvalidArgument) to keep payload sizes comparable.
  static absl::StatusOr<std::unique_ptr<BenchBridge>> FromFile(const std::string& path);

  // Fits an affine src_dim -> dst_dim bridge on 2048 synthetic pairs (x: Gaussian with
  // outlier channels; y = x W + 0.05 noise for a random W), records its cosine on 512
  // held-out pairs as fidelity["cosine"], and writes it to a temporary file (removed
  // with this object). `src`/`dst` name the models it is keyed by.
  static absl::StatusOr<std::unique_ptr<BenchBridge>> Synthetic(const broker::ModelKey& src,
                                                                const broker::ModelKey& dst,
                                                                int layer, uint32_t src_dim,
                                                                uint32_t dst_dim);
  ~BenchBridge();

  const std::string& path() const { return path_; }
  const broker::BridgeInfo& info() const { return info_; }
  // "synthetic-fit affine 576->640" or "artifact <path> (affine 576->640)".
  const std::string& description() const { return description_; }
  bool synthetic() const { return temporary_; }

  // What the broker spends translating `packet` (from `sender`) alone, measured on this
  // thread: the bridge loaded with `kernels` (broker::ArtifactBridgeLoader) and
  // broker::BridgeTranslator turning what broker::ValidateLatent decoded into `target`, as a
  // broker does for one receiver; median seconds per call.
  absl::StatusOr<double> IsolatedTranslationSeconds(const v1::LatentPacket& packet,
                                                    const v1::ModelSpec& sender,
                                                    const codec::Encoding& target,
                                                    const std::string& kernels) const;

 private:
  BenchBridge() = default;
  std::string path_;
  bool temporary_ = false;
  broker::BridgeInfo info_;
  std::string description_;
};

}  // namespace latentbus::bench

#endif  // LATENTBUS_BENCH_BUS_BRIDGE_H_
