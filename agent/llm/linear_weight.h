// A linear layer's weight [out, in]: a float32 tensor, or a PackedMatrix that stays
// quantized in memory (CPU only). Applying a packed weight to one row (a decode step, the
// LM head of the last position) runs the packed matrix-vector kernel across the compute
// threads; to several rows (a prefill) it dequantizes a few hundred rows at a time into a
// small buffer and multiplies that with BLAS, so the float copy of the whole matrix is
// never held. Internal to agent/llm (torch in the interface).
//
// One-row products of a packed weight may round the activation row to int8 blocks
// (packed_kernels.h: integer dot products, several times less work per weight); the
// model's load decides (LoadOptions::int8_activations). ApplyRow serves a decode step
// that works on plain float buffers: the row is prepared once (ActivationRow) for every
// weight that reads it.
//
// Autograd: a packed weight is not differentiable with respect to its input; training
// loads models with LoadOptions::keep_quantized = false (float32 weights).
// Thread safety: immutable; Apply and Rows are safe concurrently.
#ifndef LATENTBUS_AGENT_LLM_LINEAR_WEIGHT_H_
#define LATENTBUS_AGENT_LLM_LINEAR_WEIGHT_H_

#include <torch/torch.h>

#include <initializer_list>
#include <memory>
#include <vector>

#include "agent/llm/packed_kernels.h"
#include "agent/llm/packed_matrix.h"

namespace latentbus::agent::llm {

// One activation row (`cols` floats the caller keeps alive) as the packed products read
// it: its sums per group of 32 (the int4 layout's min term) and its int8 blocks, each
// computed on first use and then shared by the products that read the same row (q, k and
// v; gate and up). Not thread-safe: prepare it on the calling thread.
class ActivationRow {
 public:
  ActivationRow(const float* x, size_t cols) : x_(x), cols_(cols) {}
  const float* data() const { return x_; }
  size_t cols() const { return cols_; }
  const float* group_sums() const;
  const Int8Blocks& int8() const;

 private:
  const float* x_;
  size_t cols_;
  mutable std::vector<float> sums_;
  mutable Int8Blocks int8_;
  mutable bool has_sums_ = false, has_int8_ = false;
};

class LinearWeight {
 public:
  LinearWeight() = default;
  explicit LinearWeight(torch::Tensor dense) : dense_(std::move(dense)) {}
  // `int8_activations`: one-row products round the row to int8 blocks (see above).
  LinearWeight(std::shared_ptr<const PackedMatrix> packed, bool int8_activations)
      : packed_(std::move(packed)), int8_activations_(int8_activations) {}

  bool defined() const { return dense_.defined() || packed_ != nullptr; }
  bool packed() const { return packed_ != nullptr; }
  // Bytes held: 4 per element dense, the packed layout's otherwise.
  size_t bytes() const;
  // The float32 tensor (undefined when packed).
  const torch::Tensor& dense() const { return dense_; }

  // x [T, in] -> [T, out], plus `bias` when defined.
  torch::Tensor Apply(const torch::Tensor& x, const torch::Tensor& bias = torch::Tensor()) const;
  // One row on the CPU: y[out] = W x (+ bias, float32 [out], when defined). `y` must not
  // overlap x.
  void ApplyRow(const ActivationRow& x, float* y,
                const torch::Tensor& bias = torch::Tensor()) const;
  // One product of ApplyRows: y = weight x (+ *bias when bias is non-null and defined).
  struct RowProduct {
    const LinearWeight* weight;
    float* y;
    const torch::Tensor* bias = nullptr;
  };
  // ApplyRow of several weights on the same row (q, k and v; gate and up): the packed ones
  // share one pass across the compute threads, their rows split as one matrix, instead of
  // a parallel region (and its barrier) each. No y may overlap x or another y.
  static void ApplyRows(const ActivationRow& x, std::initializer_list<RowProduct> products);
  // The rows `ids` ([N] int64), as floats [N, in]: an embedding lookup.
  torch::Tensor Rows(const torch::Tensor& ids) const;

 private:
  // ApplyRow of a float32 weight (libtorch's matrix-vector product).
  void ApplyDenseRow(const ActivationRow& x, float* y, const torch::Tensor& bias) const;

  torch::Tensor dense_;
  std::shared_ptr<const PackedMatrix> packed_;
  bool int8_activations_ = false;
};

}  // namespace latentbus::agent::llm

#endif  // LATENTBUS_AGENT_LLM_LINEAR_WEIGHT_H_
