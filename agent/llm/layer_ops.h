// The operations every architecture builds its decoder layers from (with
// LinearWeight::Apply for the linear maps): RMSNorm, rotary position embedding and causal
// (optionally sliding-window) grouped-query attention over a KV cache. Internal to agent/llm (torch
// in the interface).
//
// Activations are [T, d] float32; per-head tensors are [heads, T, head_dim].
// Thread safety: pure functions (Attend writes only the cache it is given).
#ifndef LATENTBUS_AGENT_LLM_LAYER_OPS_H_
#define LATENTBUS_AGENT_LLM_LAYER_OPS_H_

#include <torch/torch.h>

#include "agent/llm/kv_cache.h"
#include "agent/llm/model_config.h"

namespace latentbus::agent::llm {

torch::Tensor RmsNorm(const torch::Tensor& x, const torch::Tensor& w, double eps);

// A projection's output [T, heads * head_dim] as per-head rows [heads, T, head_dim].
torch::Tensor SplitHeads(const ModelConfig& config, const torch::Tensor& y, int64_t heads);

// Rotates `x` ([heads, T, head_dim]) for positions start .. start+T-1 in the config's
// RoPE layout, with frequency base `base`.
torch::Tensor Rope(const ModelConfig& config, const torch::Tensor& x, int64_t start, double base);

// Attention of layer `layer` for queries q [heads, T, hd] and keys/values k, v
// [kv_heads, T, hd] (projected and normalised as the architecture wants, not yet
// rotated): RoPE with the layer's base, the cache appended (when not null; positions then
// start at cache->length()), causal and, on the config's local layers, sliding-window
// masking. Returns the heads concatenated, [T, heads * hd] (before the output projection).
torch::Tensor Attend(const ModelConfig& config, size_t layer, torch::Tensor q, torch::Tensor k,
                     torch::Tensor v, KvCache* cache);

}  // namespace latentbus::agent::llm

#endif  // LATENTBUS_AGENT_LLM_LAYER_OPS_H_
