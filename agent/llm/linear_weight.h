// A linear layer's weight [out, in]: a float32 tensor, or a PackedMatrix that stays
// quantized in memory (CPU only). Applying a packed weight to one row (a decode step, the
// LM head of the last position) runs the packed matrix-vector kernel across the compute
// threads; to several rows (a prefill) it dequantizes a few hundred rows at a time into a
// small buffer and multiplies that with BLAS, so the float copy of the whole matrix is
// never held. Internal to agent/llm (torch in the interface).
//
// Autograd: a packed weight is not differentiable with respect to its input; training
// loads models with LoadOptions::keep_quantized = false (float32 weights).
// Thread safety: immutable; Apply and Rows are safe concurrently.
#ifndef LATENTBUS_AGENT_LLM_LINEAR_WEIGHT_H_
#define LATENTBUS_AGENT_LLM_LINEAR_WEIGHT_H_

#include <torch/torch.h>

#include <memory>

#include "agent/llm/packed_matrix.h"

namespace latentbus::agent::llm {

class LinearWeight {
 public:
  LinearWeight() = default;
  explicit LinearWeight(torch::Tensor dense) : dense_(std::move(dense)) {}
  explicit LinearWeight(std::shared_ptr<const PackedMatrix> packed) : packed_(std::move(packed)) {}

  bool defined() const { return dense_.defined() || packed_ != nullptr; }
  bool packed() const { return packed_ != nullptr; }
  // Bytes held: 4 per element dense, the packed layout's otherwise.
  size_t bytes() const;
  // The float32 tensor (undefined when packed).
  const torch::Tensor& dense() const { return dense_; }

  // x [T, in] -> [T, out], plus `bias` when defined.
  torch::Tensor Apply(const torch::Tensor& x, const torch::Tensor& bias = torch::Tensor()) const;
  // The rows `ids` ([N] int64), as floats [N, in]: an embedding lookup.
  torch::Tensor Rows(const torch::Tensor& ids) const;

 private:
  torch::Tensor dense_;
  std::shared_ptr<const PackedMatrix> packed_;
};

}  // namespace latentbus::agent::llm

#endif  // LATENTBUS_AGENT_LLM_LINEAR_WEIGHT_H_
