// The decode step's operations: layer_ops.h for one position (T == 1), as loops over
// plain float buffers instead of torch operators. At these model sizes a decode step's
// arithmetic outside the matrix products is tiny, and dispatching ~60 small torch
// operators per layer cost about as much as the products themselves; each family's Block
// takes this path when UseDecodePath says it may. The results equal layer_ops.h's up to
// the order of float additions. Internal to agent/llm (torch in the interface).
//
// Thread safety: pure functions over the caller's buffers (AttendRow writes only the
// cache it is given); DecodeRope is immutable.
#ifndef LATENTBUS_AGENT_LLM_DECODE_OPS_H_
#define LATENTBUS_AGENT_LLM_DECODE_OPS_H_

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "agent/llm/kv_cache.h"
#include "agent/llm/model_config.h"

namespace latentbus::agent::llm {

// True when a layer may run `x` through the decode path: one float32 row on the CPU,
// contiguous, with a cache, and no gradients being recorded (training takes the torch
// path, whose operators autograd knows).
bool UseDecodePath(const torch::Tensor& x, const KvCache* cache);

// The rows a layer's decode step works in, sized from the config.
struct DecodeRows {
  explicit DecodeRows(const ModelConfig& config);
  std::vector<float> normed;     // [d]: a norm's output, the input of the projections
  std::vector<float> q, k, v;    // [heads * hd], [kv_heads * hd] twice
  std::vector<float> attended;   // [heads * hd]
  std::vector<float> projected;  // [d]: an output projection's result
  std::vector<float> gate, up;   // [ffn]
};

// out[i] = x[i] / sqrt(mean(x^2) + eps) * w[i], i < n (out may be x).
void RmsNormRow(const float* x, const float* w, int64_t n, double eps, float* out);

// x[i] += y[i], i < n.
void AddRow(float* x, const float* y, int64_t n);

// gate[i] = silu(gate[i]) * up[i] (SwiGLU), and gelu_tanh(gate[i]) * up[i] (GeGLU), i < n.
// The activations are libtorch's own vectorized kernels (one call each).
void SiluGateRow(float* gate, const float* up, int64_t n);
void GeluGateRow(float* gate, const float* up, int64_t n);

// RoPE for one position: the inverse frequencies of the config's global and local bases,
// computed once per model (float32, as the reference computes them); a position's
// angles are formed from them when it is rotated.
class DecodeRope {
 public:
  explicit DecodeRope(const ModelConfig& config);
  // Rotates `heads` heads of head_dim floats at `x` for position `pos`, in place, with the
  // local base when `local`.
  void Rotate(float* x, int64_t heads, int64_t pos, bool local) const;

 private:
  int64_t head_dim_;
  RopeStyle style_;
  std::vector<float> global_, local_;  // head_dim / 2 each
};

// Attention of layer `layer` for the one position cache->length(), as Attend for T == 1:
// rotates q ([heads * hd]) and k ([kv_heads * hd]) in place, writes k and v into the
// cache at that position (not advancing it), and writes the heads' outputs, concatenated,
// to out ([heads * hd]), over the positions the query sees (causal; the sliding window
// on local layers).
void AttendRow(const ModelConfig& config, const DecodeRope& rope, size_t layer, float* q, float* k,
               const float* v, KvCache* cache, float* out);

}  // namespace latentbus::agent::llm

#endif  // LATENTBUS_AGENT_LLM_DECODE_OPS_H_
