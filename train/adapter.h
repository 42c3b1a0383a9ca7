// The trainable adapter bridge: the affine map, trained further through the frozen
// receiver, plus a residual two-layer perceptron that starts at zero. Its artifact is
// the "adapter" kind (bridge/bridge_artifact.h), which the broker applies batched.
//
//   z = (x - src_mean) / src_std          (fixed: the sender's calibration statistics)
//   y = z map + bias + gelu(z up + up_bias) down
//
// Started from an affine artifact, map = affine map * dst_std, bias = dst_mean and
// down = 0: before training it translates exactly as the affine bridge does.
//
// Thread safety: not thread-safe (tensors are updated in place by the optimizer).
#ifndef LATENTBUS_TRAIN_ADAPTER_H_
#define LATENTBUS_TRAIN_ADAPTER_H_

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "bridge/bridge_artifact.h"

namespace latentbus::train {

struct AdapterParameters {
  torch::Tensor src_mean, src_std;             // [ds], fixed
  torch::Tensor map, bias, up, up_bias, down;  // trained
};

class Adapter {
 public:
  // From an affine (or procrustes) artifact, with a residual of width `rank` (random `up`
  // seeded by `seed`, zero `down`). InvalidArgument for other kinds or rank < 1.
  static absl::StatusOr<Adapter> FromLinear(const bridge::BridgeArtifact& linear, int64_t rank,
                                            uint64_t seed);
  // From an adapter artifact (a checkpoint or a finished bridge).
  static absl::StatusOr<Adapter> FromArtifact(const bridge::BridgeArtifact& adapter);

  // [T, ds] -> [T, dt], differentiable with respect to the trained tensors.
  torch::Tensor Forward(const torch::Tensor& x) const;

  // The trained tensors, for the optimizer, in a fixed order: map, bias, up, up_bias, down.
  std::vector<torch::Tensor> Trained() const;

  // An artifact of kind "adapter" with `base`'s identity fields (models, layer, corpus).
  bridge::BridgeArtifact ToArtifact(const bridge::BridgeMetadata& base) const;

  int64_t src_dim() const { return p_.map.size(0); }
  int64_t dst_dim() const { return p_.map.size(1); }
  int64_t rank() const { return p_.up.size(1); }
  const AdapterParameters& parameters() const { return p_; }

 private:
  explicit Adapter(AdapterParameters p) : p_(std::move(p)) {}
  AdapterParameters p_;
};

}  // namespace latentbus::train

#endif  // LATENTBUS_TRAIN_ADAPTER_H_
