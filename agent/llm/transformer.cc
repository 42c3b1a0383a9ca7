#include "agent/llm/transformer.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace latentbus::agent::llm {
namespace {

torch::Tensor RmsNorm(const torch::Tensor& x, const torch::Tensor& w, double eps) {
  return x * torch::rsqrt(x.pow(2).mean(-1, /*keepdim=*/true) + eps) * w;
}

// x [T, in] times weight [out, in] transposed, plus bias when given. A single row (a decode
// step, the last-token LM head) goes through a matrix-vector product: BLAS gemm packs the
// whole weight matrix into a scratch buffer on every call, which for one row triples the
// memory traffic of a product that is bound by it (Gemma's 262k x 640 LM head: 671 MB).
torch::Tensor Linear(const torch::Tensor& x, const torch::Tensor& weight,
                     const torch::Tensor& bias = torch::Tensor()) {
  if (x.dim() == 2 && x.size(0) == 1) {
    const torch::Tensor row = x.select(0, 0);
    return (bias.defined() ? torch::addmv(bias, weight, row) : torch::mv(weight, row)).unsqueeze(0);
  }
  return bias.defined() ? torch::linear(x, weight, bias) : torch::linear(x, weight);
}

}  // namespace

absl::StatusOr<Weights> LoadWeights(const WeightSource& source, const ModelConfig& c,
                                    const torch::Device& device) {
  Weights w;
  const int64_t d = c.hidden_size, hd = c.head_dim;
  const int64_t q_out = c.num_heads * hd, kv_out = c.num_kv_heads * hd;
  absl::Status status;
  // Loads into `*out` unless an earlier load failed; `optional` tensors may be absent.
  auto load = [&](torch::Tensor* out, const std::string& name, std::vector<int64_t> shape,
                  bool optional = false) {
    if (!status.ok()) return;
    if (optional && !source.Has(name)) return;
    absl::StatusOr<torch::Tensor> t = source.Load(name, shape);
    if (!t.ok()) {
      status = t.status();
      return;
    }
    w.num_parameters += static_cast<size_t>(t->numel());
    *out = device.is_cpu() ? *std::move(t) : t->to(device);
  };
  load(&w.token_embd, "token_embd.weight", {c.vocab_size, d});
  load(&w.output_norm, "output_norm.weight", {d});
  if (c.tied_embeddings) {
    w.output = w.token_embd;
  } else {
    load(&w.output, "output.weight", {c.vocab_size, d});
  }
  const bool gemma = c.family == Family::kGemma3;
  w.layers.resize(static_cast<size_t>(c.num_layers));
  for (int64_t i = 0; i < c.num_layers; ++i) {
    LayerWeights& l = w.layers[static_cast<size_t>(i)];
    const std::string p = absl::StrCat("blk.", i, ".");
    load(&l.attn_norm, p + "attn_norm.weight", {d});
    load(&l.wq, p + "attn_q.weight", {q_out, d});
    load(&l.wk, p + "attn_k.weight", {kv_out, d});
    load(&l.wv, p + "attn_v.weight", {kv_out, d});
    load(&l.wo, p + "attn_output.weight", {d, q_out});
    load(&l.bq, p + "attn_q.bias", {q_out}, /*optional=*/true);
    load(&l.bk, p + "attn_k.bias", {kv_out}, /*optional=*/true);
    load(&l.bv, p + "attn_v.bias", {kv_out}, /*optional=*/true);
    load(&l.ffn_norm, p + "ffn_norm.weight", {d});
    load(&l.w_gate, p + "ffn_gate.weight", {c.ffn_size, d});
    load(&l.w_up, p + "ffn_up.weight", {c.ffn_size, d});
    load(&l.w_down, p + "ffn_down.weight", {d, c.ffn_size});
    if (gemma) {
      load(&l.q_norm, p + "attn_q_norm.weight", {hd});
      load(&l.k_norm, p + "attn_k_norm.weight", {hd});
      load(&l.post_attn_norm, p + "post_attention_norm.weight", {d});
      load(&l.post_ffn_norm, p + "post_ffw_norm.weight", {d});
    }
  }
  if (!status.ok()) return status;
  return w;
}

KvCache::KvCache(const ModelConfig& c, int64_t capacity, const torch::Device& device)
    : capacity_(capacity) {
  const auto options = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  for (int64_t i = 0; i < c.num_layers; ++i) {
    k_.push_back(torch::empty({c.num_kv_heads, capacity, c.head_dim}, options));
    v_.push_back(torch::empty({c.num_kv_heads, capacity, c.head_dim}, options));
  }
}

Transformer::Transformer(ModelConfig config, Weights weights)
    : config_(std::move(config)), weights_(std::move(weights)) {}

torch::Tensor Transformer::Embed(const torch::Tensor& ids) const {
  torch::Tensor x = weights_.token_embd.index_select(0, ids.to(weights_.token_embd.device()));
  if (config_.embedding_scale != 1.0) {
    // Hugging Face rounds the scale to the activation dtype (float32) before multiplying.
    x = x * static_cast<float>(config_.embedding_scale);
  }
  return x;
}

// Rotates `x` ([heads, T, head_dim]) for positions start .. start+T-1. The angles are
// computed in float32 like the reference implementation.
torch::Tensor Transformer::Rope(const torch::Tensor& x, int64_t start, double base) const {
  const int64_t hd = config_.head_dim, t = x.size(1);
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(x.device());
  const torch::Tensor exponent =
      torch::arange(0, hd, 2, torch::TensorOptions().dtype(torch::kInt64).device(x.device()))
          .to(torch::kFloat32) /
      static_cast<float>(hd);
  const torch::Tensor inv_freq = 1.0 / torch::pow(static_cast<float>(base), exponent);
  const torch::Tensor pos = torch::arange(start, start + t, f32);
  const torch::Tensor angles = torch::outer(pos, inv_freq);  // [T, hd/2]
  const torch::Tensor cos = angles.cos(), sin = angles.sin();
  if (config_.rope_style == RopeStyle::kHalves) {
    const torch::Tensor x1 = x.narrow(-1, 0, hd / 2), x2 = x.narrow(-1, hd / 2, hd / 2);
    return torch::cat({x1 * cos - x2 * sin, x2 * cos + x1 * sin}, -1);
  }
  const torch::Tensor pairs = x.reshape({x.size(0), t, hd / 2, 2});
  const torch::Tensor even = pairs.select(-1, 0), odd = pairs.select(-1, 1);
  return torch::stack({even * cos - odd * sin, even * sin + odd * cos}, -1).reshape(x.sizes());
}

torch::Tensor Transformer::Attention(const torch::Tensor& h, const LayerWeights& w, size_t layer,
                                     KvCache* cache) const {
  const ModelConfig& c = config_;
  const int64_t t = h.size(0), hd = c.head_dim, start = cache ? cache->length_ : 0;
  auto project = [&](const torch::Tensor& weight, const torch::Tensor& bias, int64_t heads) {
    torch::Tensor y = Linear(h, weight, bias);
    return y.view({t, heads, hd}).transpose(0, 1);  // [heads, T, hd]
  };
  torch::Tensor q = project(w.wq, w.bq, c.num_heads);
  torch::Tensor k = project(w.wk, w.bk, c.num_kv_heads);
  torch::Tensor v = project(w.wv, w.bv, c.num_kv_heads);
  if (w.q_norm.defined()) {
    q = RmsNorm(q, w.q_norm, c.rms_eps);
    k = RmsNorm(k, w.k_norm, c.rms_eps);
  }
  const bool local = c.layer_is_local[layer];
  const double base = local ? c.rope_local_base : c.rope_base;
  q = Rope(q, start, base);
  k = Rope(k, start, base);

  const int64_t total = start + t;
  torch::Tensor keys = k, values = v;
  if (cache != nullptr) {
    cache->k_[layer].narrow(1, start, t).copy_(k);
    cache->v_[layer].narrow(1, start, t).copy_(v);
    keys = cache->k_[layer].narrow(1, 0, total);
    values = cache->v_[layer].narrow(1, 0, total);
  }
  // Grouped-query attention without copying keys and values per query head: the `group`
  // query heads sharing a KV head are stacked along the rows, [KV, group * T, hd].
  const int64_t group = c.num_heads / c.num_kv_heads;
  const torch::Tensor q_rows = (q * c.attention_scale).reshape({c.num_kv_heads, group * t, hd});
  torch::Tensor scores = torch::matmul(q_rows, keys.transpose(1, 2));  // [KV, group*T, total]
  // Query i (absolute start + i) sees key j when j <= start + i and, on local layers,
  // start + i - j < window.
  const auto i64 = torch::TensorOptions().dtype(torch::kInt64).device(h.device());
  const torch::Tensor qpos = torch::arange(start, total, i64).unsqueeze(1);
  const torch::Tensor kpos = torch::arange(0, total, i64).unsqueeze(0);
  torch::Tensor blocked = kpos > qpos;
  if (local && c.sliding_window > 0) blocked = blocked | (qpos - kpos >= c.sliding_window);
  scores.view({c.num_heads, t, total})
      .masked_fill_(blocked, -std::numeric_limits<float>::infinity());
  const torch::Tensor out =
      torch::matmul(torch::softmax(scores, -1), values).view({c.num_heads, t, hd});
  return Linear(out.transpose(0, 1).reshape({t, c.num_heads * hd}), w.wo);
}

torch::Tensor Transformer::FeedForward(const torch::Tensor& h, const LayerWeights& w) const {
  const torch::Tensor gate = Linear(h, w.w_gate);
  const torch::Tensor act =
      config_.family == Family::kGemma3 ? torch::gelu(gate, "tanh") : torch::silu(gate);
  return Linear(act * Linear(h, w.w_up), w.w_down);
}

torch::Tensor Transformer::Blocks(const torch::Tensor& input, KvCache* cache,
                                  const std::vector<int>& taps, std::vector<torch::Tensor>* tapped,
                                  bool stop_at_last_tap) const {
  const ModelConfig& c = config_;
  int last_tap = -1;
  for (int l : taps) last_tap = std::max(last_tap, l);
  if (tapped == nullptr || last_tap >= static_cast<int>(c.num_layers)) stop_at_last_tap = false;
  if (tapped != nullptr) tapped->assign(taps.size(), torch::Tensor());
  auto tap = [&](int layer, const torch::Tensor& x) {
    if (tapped == nullptr) return;
    for (size_t i = 0; i < taps.size(); ++i) {
      if (taps[i] == layer) (*tapped)[i] = x.clone();
    }
  };
  torch::Tensor x = input;
  for (size_t i = 0; i < weights_.layers.size(); ++i) {
    tap(static_cast<int>(i), x);
    if (stop_at_last_tap && static_cast<int>(i) == last_tap) return torch::Tensor();
    const LayerWeights& w = weights_.layers[i];
    torch::Tensor a = Attention(RmsNorm(x, w.attn_norm, c.rms_eps), w, i, cache);
    if (w.post_attn_norm.defined()) a = RmsNorm(a, w.post_attn_norm, c.rms_eps);
    x = x + a;
    torch::Tensor m = FeedForward(RmsNorm(x, w.ffn_norm, c.rms_eps), w);
    if (w.post_ffn_norm.defined()) m = RmsNorm(m, w.post_ffn_norm, c.rms_eps);
    x = x + m;
  }
  if (cache != nullptr) cache->length_ += input.size(0);
  x = RmsNorm(x, weights_.output_norm, c.rms_eps);
  tap(static_cast<int>(c.num_layers), x);
  return x;
}

torch::Tensor Transformer::Forward(const torch::Tensor& input, KvCache* cache,
                                   const std::vector<int>& taps, std::vector<torch::Tensor>* tapped,
                                   bool all_logits, bool stop_at_last_tap) const {
  torch::Tensor x = Blocks(input, cache, taps, tapped, stop_at_last_tap);
  if (!x.defined()) return x;
  if (!all_logits) x = x.narrow(0, x.size(0) - 1, 1);
  return Head(x);
}

torch::Tensor Transformer::Head(const torch::Tensor& normed) const {
  return Linear(normed, weights_.output);
}

torch::Tensor Transformer::FinalHidden(const torch::Tensor& x) const {
  return Blocks(x, nullptr, {}, nullptr, false);
}

}  // namespace latentbus::agent::llm
