// A bridge's translation on int8 products (int8_matmul.h), for the linear kinds and the
// adapter: the input rows are normalised (z = (x - src_mean) / src_std), rounded to int8
// per row, and multiplied by the weights rounded to int8 per column once at load:
//
//   linear   y = z (map * dst_std) + dst_mean
//   adapter  y = z map + bias + gelu_tanh(z up + up_bias) down  (the hidden row rounded
//            to int8 again before `down`)
//
// Normalising before rounding keeps a sender's few huge channels from taking the whole
// int8 range of every row. What the rounding costs is measured in docs/BRIDGES.md; Bridge
// (bridge.h) decides when this path is used. Torch-free.
//
// Thread safety: immutable after Create; Apply is safe for concurrent callers.
#ifndef LATENTBUS_BRIDGE_INT8_BRIDGE_H_
#define LATENTBUS_BRIDGE_INT8_BRIDGE_H_

#include <cstddef>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "bridge/bridge_artifact.h"
#include "bridge/int8_matmul.h"
#include "bridge/int8_matrix.h"

namespace latentbus::bridge {

class Int8Bridge {
 public:
  // InvalidArgument for a kind without an int8 form (the resampler) or a source width over
  // kInt8MaxDepth. The artifact must have passed ValidateBridgeArtifact.
  static absl::StatusOr<std::unique_ptr<Int8Bridge>> Create(const BridgeArtifact& artifact,
                                                            const Int8MatmulKernels& kernels);

  // y[rows, dst_dim] from x[rows, src_dim], both row-major.
  void Apply(const float* x, size_t rows, float* y) const;

  const Int8MatmulKernels& kernels() const { return *kernels_; }

 private:
  Int8Bridge() = default;

  const Int8MatmulKernels* kernels_ = nullptr;
  size_t src_dim_ = 0, dst_dim_ = 0, hidden_ = 0;  // hidden_ == 0: linear
  std::vector<float> src_mean_, src_inv_std_;
  Int8Matrix map_;
  std::vector<float> bias_;
  Int8Matrix up_, down_;  // adapter
  std::vector<float> up_bias_;
};

}  // namespace latentbus::bridge

#endif  // LATENTBUS_BRIDGE_INT8_BRIDGE_H_
