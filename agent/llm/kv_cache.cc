#include "agent/llm/kv_cache.h"

namespace latentbus::agent::llm {

KvCache::KvCache(const ModelConfig& c, int64_t capacity, const torch::Device& device)
    : capacity_(capacity), head_dim_(c.head_dim) {
  const auto options = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  for (int64_t i = 0; i < c.num_layers; ++i) {
    k_.push_back(torch::empty({c.num_kv_heads, capacity, c.head_dim}, options));
    v_.push_back(torch::empty({c.num_kv_heads, capacity, c.head_dim}, options));
  }
}

std::pair<torch::Tensor, torch::Tensor> KvCache::Append(size_t layer, const torch::Tensor& k,
                                                        const torch::Tensor& v) {
  const int64_t t = k.size(1), total = length_ + t;
  k_[layer].narrow(1, length_, t).copy_(k);
  v_[layer].narrow(1, length_, t).copy_(v);
  return {k_[layer].narrow(1, 0, total), v_[layer].narrow(1, 0, total)};
}

}  // namespace latentbus::agent::llm
