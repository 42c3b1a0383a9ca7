#include "agent/llm/layer_ops.h"

#include <limits>

namespace latentbus::agent::llm {

torch::Tensor RmsNorm(const torch::Tensor& x, const torch::Tensor& w, double eps) {
  return x * torch::rsqrt(x.pow(2).mean(-1, /*keepdim=*/true) + eps) * w;
}

torch::Tensor SplitHeads(const ModelConfig& config, const torch::Tensor& y, int64_t heads) {
  return y.view({y.size(0), heads, config.head_dim}).transpose(0, 1);
}

// The angles are computed in float32 like the reference implementation.
torch::Tensor Rope(const ModelConfig& config, const torch::Tensor& x, int64_t start, double base) {
  const int64_t hd = config.head_dim, t = x.size(1);
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(x.device());
  const torch::Tensor exponent =
      torch::arange(0, hd, 2, torch::TensorOptions().dtype(torch::kInt64).device(x.device()))
          .to(torch::kFloat32) /
      static_cast<float>(hd);
  const torch::Tensor inv_freq = 1.0 / torch::pow(static_cast<float>(base), exponent);
  const torch::Tensor pos = torch::arange(start, start + t, f32);
  const torch::Tensor angles = torch::outer(pos, inv_freq);  // [T, hd/2]
  const torch::Tensor cos = angles.cos(), sin = angles.sin();
  if (config.rope_style == RopeStyle::kHalves) {
    const torch::Tensor x1 = x.narrow(-1, 0, hd / 2), x2 = x.narrow(-1, hd / 2, hd / 2);
    return torch::cat({x1 * cos - x2 * sin, x2 * cos + x1 * sin}, -1);
  }
  const torch::Tensor pairs = x.reshape({x.size(0), t, hd / 2, 2});
  const torch::Tensor even = pairs.select(-1, 0), odd = pairs.select(-1, 1);
  return torch::stack({even * cos - odd * sin, even * sin + odd * cos}, -1).reshape(x.sizes());
}

torch::Tensor Attend(const ModelConfig& c, size_t layer, torch::Tensor q, torch::Tensor k,
                     torch::Tensor v, KvCache* cache) {
  const int64_t t = q.size(1), hd = c.head_dim, start = cache ? cache->length() : 0;
  const bool local = c.layer_is_local[layer];
  const double base = local ? c.rope_local_base : c.rope_base;
  q = Rope(c, q, start, base);
  k = Rope(c, k, start, base);
  const int64_t total = start + t;
  torch::Tensor keys = k, values = v;
  if (cache != nullptr) std::tie(keys, values) = cache->Append(layer, k, v);
  // Grouped-query attention without copying keys and values per query head: the `group`
  // query heads sharing a KV head are stacked along the rows, [KV, group * T, hd].
  const int64_t group = c.num_heads / c.num_kv_heads;
  const torch::Tensor q_rows = (q * c.attention_scale).reshape({c.num_kv_heads, group * t, hd});
  torch::Tensor scores = torch::matmul(q_rows, keys.transpose(1, 2));  // [KV, group*T, total]
  // Query i (absolute start + i) sees key j when j <= start + i and, on local layers,
  // start + i - j < window.
  const auto i64 = torch::TensorOptions().dtype(torch::kInt64).device(q.device());
  const torch::Tensor qpos = torch::arange(start, total, i64).unsqueeze(1);
  const torch::Tensor kpos = torch::arange(0, total, i64).unsqueeze(0);
  torch::Tensor blocked = kpos > qpos;
  if (local && c.sliding_window > 0) blocked = blocked | (qpos - kpos >= c.sliding_window);
  scores.view({c.num_heads, t, total})
      .masked_fill_(blocked, -std::numeric_limits<float>::infinity());
  const torch::Tensor out =
      torch::matmul(torch::softmax(scores, -1), values).view({c.num_heads, t, hd});
  return out.transpose(0, 1).reshape({t, c.num_heads * hd});
}

}  // namespace latentbus::agent::llm
