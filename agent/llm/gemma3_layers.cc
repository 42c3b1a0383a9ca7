// Gemma 3's decoder layers (decoder_layers.h).
#include <vector>

#include "agent/llm/decoder_layers.h"
#include "agent/llm/layer_ops.h"

namespace latentbus::agent::llm {
namespace {

struct Gemma3Layer : CommonLayerWeights {
  torch::Tensor q_norm, k_norm;  // per head: [head_dim]
  torch::Tensor post_attn_norm, post_ffn_norm;
};

class Gemma3Layers : public LayerStack<Gemma3Layer> {
 public:
  using LayerStack::LayerStack;

  torch::Tensor Block(size_t layer, const torch::Tensor& x, KvCache* cache) const override {
    if (UseDecodePath(x, cache)) return DecodeBlock(layer, x, cache);
    const ModelConfig& c = config_;
    const Gemma3Layer& w = layers_[layer];
    const torch::Tensor h = RmsNorm(x, w.attn_norm, c.rms_eps);
    const torch::Tensor q = RmsNorm(SplitHeads(c, w.wq.Apply(h), c.num_heads), w.q_norm, c.rms_eps);
    const torch::Tensor k =
        RmsNorm(SplitHeads(c, w.wk.Apply(h), c.num_kv_heads), w.k_norm, c.rms_eps);
    const torch::Tensor v = SplitHeads(c, w.wv.Apply(h), c.num_kv_heads);
    const torch::Tensor attended = Attend(c, layer, q, k, v, cache);
    const torch::Tensor y = x + RmsNorm(w.wo.Apply(attended), w.post_attn_norm, c.rms_eps);
    const torch::Tensor g = RmsNorm(y, w.ffn_norm, c.rms_eps);
    const torch::Tensor m =
        w.w_down.Apply(torch::gelu(w.w_gate.Apply(g), "tanh") * w.w_up.Apply(g));
    return y + RmsNorm(m, w.post_ffn_norm, c.rms_eps);
  }

 private:
  // Block for one position, on float buffers (decode_ops.h).
  torch::Tensor DecodeBlock(size_t layer, const torch::Tensor& x, KvCache* cache) const {
    const ModelConfig& c = config_;
    const Gemma3Layer& w = layers_[layer];
    const int64_t d = c.hidden_size, hd = c.head_dim;
    const double eps = c.rms_eps;
    DecodeRows r(c);
    torch::Tensor out = x.clone();  // the residual stream, updated in place
    float* y = out.data_ptr<float>();
    RmsNormRow(y, w.attn_norm.data_ptr<float>(), d, eps, r.normed.data());
    const ActivationRow h(r.normed.data(), r.normed.size());
    LinearWeight::ApplyRows(h, {{&w.wq, r.q.data()}, {&w.wk, r.k.data()}, {&w.wv, r.v.data()}});
    for (int64_t i = 0; i < c.num_heads; ++i) {
      RmsNormRow(r.q.data() + i * hd, w.q_norm.data_ptr<float>(), hd, eps, r.q.data() + i * hd);
    }
    for (int64_t i = 0; i < c.num_kv_heads; ++i) {
      RmsNormRow(r.k.data() + i * hd, w.k_norm.data_ptr<float>(), hd, eps, r.k.data() + i * hd);
    }
    AttendRow(c, rope_, layer, r.q.data(), r.k.data(), r.v.data(), cache, r.attended.data());
    w.wo.ApplyRow(ActivationRow(r.attended.data(), r.attended.size()), r.projected.data());
    RmsNormRow(r.projected.data(), w.post_attn_norm.data_ptr<float>(), d, eps, r.projected.data());
    AddRow(y, r.projected.data(), d);
    RmsNormRow(y, w.ffn_norm.data_ptr<float>(), d, eps, r.normed.data());
    const ActivationRow g(r.normed.data(), r.normed.size());
    LinearWeight::ApplyRows(g, {{&w.w_gate, r.gate.data()}, {&w.w_up, r.up.data()}});
    GeluGateRow(r.gate.data(), r.up.data(), c.ffn_size);
    w.w_down.ApplyRow(ActivationRow(r.gate.data(), r.gate.size()), r.projected.data());
    RmsNormRow(r.projected.data(), w.post_ffn_norm.data_ptr<float>(), d, eps, r.projected.data());
    AddRow(y, r.projected.data(), d);
    return out;
  }
};

}  // namespace

absl::StatusOr<std::unique_ptr<DecoderLayers>> LoadGemma3Layers(const WeightSource& source,
                                                                const ModelConfig& c,
                                                                const WeightLoad& load) {
  const int64_t d = c.hidden_size, hd = c.head_dim;
  return LoadLayerStack<Gemma3Layers, Gemma3Layer>(
      source, c, load, [&](TensorLoader& loader, const std::string& p, Gemma3Layer* l) {
        loader.Load(&l->q_norm, p + "attn_q_norm.weight", {hd});
        loader.Load(&l->k_norm, p + "attn_k_norm.weight", {hd});
        loader.Load(&l->post_attn_norm, p + "post_attention_norm.weight", {d});
        loader.Load(&l->post_ffn_norm, p + "post_ffw_norm.weight", {d});
      });
}

}  // namespace latentbus::agent::llm
