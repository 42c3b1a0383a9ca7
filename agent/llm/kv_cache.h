// Keys and values of past positions, per layer, preallocated for a number of positions.
// Internal to agent/llm (torch in the interface).
//
// Thread safety: one sequence's cache; not for concurrent use.
#ifndef LATENTBUS_AGENT_LLM_KV_CACHE_H_
#define LATENTBUS_AGENT_LLM_KV_CACHE_H_

#include <torch/torch.h>

#include <utility>
#include <vector>

#include "agent/llm/model_config.h"

namespace latentbus::agent::llm {

class KvCache {
 public:
  KvCache(const ModelConfig& config, int64_t capacity, const torch::Device& device);
  // Positions held (the next position written is length()).
  int64_t length() const { return length_; }
  int64_t capacity() const { return capacity_; }

  // Writes `k` and `v` ([kv_heads, T, head_dim]) of `layer` at positions length() ...
  // and returns the keys and values of positions 0 .. length() + T - 1 (views). The
  // caller checks the capacity.
  std::pair<torch::Tensor, torch::Tensor> Append(size_t layer, const torch::Tensor& k,
                                                 const torch::Tensor& v);
  // On the CPU: the head_dim floats of `layer`'s key (value) for KV head `head` at
  // position `pos` (< capacity()); a head's positions follow each other, head_dim apart.
  // The decode step's loops read and write the cache through these.
  float* key(size_t layer, int64_t head, int64_t pos) { return Row(k_[layer], head, pos); }
  float* value(size_t layer, int64_t head, int64_t pos) { return Row(v_[layer], head, pos); }
  // After every layer appended T positions: they become part of length().
  void Advance(int64_t positions) { length_ += positions; }

 private:
  float* Row(const torch::Tensor& t, int64_t head, int64_t pos) const {
    return t.data_ptr<float>() + (head * capacity_ + pos) * head_dim_;
  }

  std::vector<torch::Tensor> k_, v_;  // [kv_heads, capacity, head_dim]
  int64_t length_ = 0;
  int64_t capacity_ = 0;
  int64_t head_dim_ = 0;
};

}  // namespace latentbus::agent::llm

#endif  // LATENTBUS_AGENT_LLM_KV_CACHE_H_
