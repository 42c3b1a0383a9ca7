// The Llama family's decoder layers (decoder_layers.h): Llama, Mistral, Qwen2, SmolLM.
#include <vector>

#include "agent/llm/decoder_layers.h"
#include "agent/llm/layer_ops.h"

namespace latentbus::agent::llm {
namespace {

struct LlamaLayer : CommonLayerWeights {
  torch::Tensor bq, bk, bv;  // optional (Qwen2): undefined when absent
};

class LlamaLayers : public LayerStack<LlamaLayer> {
 public:
  using LayerStack::LayerStack;

  torch::Tensor Block(size_t layer, const torch::Tensor& x, KvCache* cache) const override {
    if (UseDecodePath(x, cache)) return DecodeBlock(layer, x, cache);
    const ModelConfig& c = config_;
    const LlamaLayer& w = layers_[layer];
    const torch::Tensor h = RmsNorm(x, w.attn_norm, c.rms_eps);
    const torch::Tensor attended =
        Attend(c, layer, SplitHeads(c, w.wq.Apply(h, w.bq), c.num_heads),
               SplitHeads(c, w.wk.Apply(h, w.bk), c.num_kv_heads),
               SplitHeads(c, w.wv.Apply(h, w.bv), c.num_kv_heads), cache);
    const torch::Tensor y = x + w.wo.Apply(attended);
    const torch::Tensor g = RmsNorm(y, w.ffn_norm, c.rms_eps);
    return y + w.w_down.Apply(torch::silu(w.w_gate.Apply(g)) * w.w_up.Apply(g));
  }

 private:
  // Block for one position, on float buffers (decode_ops.h).
  torch::Tensor DecodeBlock(size_t layer, const torch::Tensor& x, KvCache* cache) const {
    const ModelConfig& c = config_;
    const LlamaLayer& w = layers_[layer];
    const int64_t d = c.hidden_size;
    DecodeRows r(c);
    torch::Tensor out = x.clone();  // the residual stream, updated in place
    float* y = out.data_ptr<float>();
    RmsNormRow(y, w.attn_norm.data_ptr<float>(), d, c.rms_eps, r.normed.data());
    const ActivationRow h(r.normed.data(), r.normed.size());
    LinearWeight::ApplyRows(
        h, {{&w.wq, r.q.data(), &w.bq}, {&w.wk, r.k.data(), &w.bk}, {&w.wv, r.v.data(), &w.bv}});
    AttendRow(c, rope_, layer, r.q.data(), r.k.data(), r.v.data(), cache, r.attended.data());
    w.wo.ApplyRow(ActivationRow(r.attended.data(), r.attended.size()), r.projected.data());
    AddRow(y, r.projected.data(), d);
    RmsNormRow(y, w.ffn_norm.data_ptr<float>(), d, c.rms_eps, r.normed.data());
    const ActivationRow g(r.normed.data(), r.normed.size());
    LinearWeight::ApplyRows(g, {{&w.w_gate, r.gate.data()}, {&w.w_up, r.up.data()}});
    SiluGateRow(r.gate.data(), r.up.data(), c.ffn_size);
    w.w_down.ApplyRow(ActivationRow(r.gate.data(), r.gate.size()), r.projected.data());
    AddRow(y, r.projected.data(), d);
    return out;
  }
};

}  // namespace

absl::StatusOr<std::unique_ptr<DecoderLayers>> LoadLlamaLayers(const WeightSource& source,
                                                               const ModelConfig& c,
                                                               const WeightLoad& load) {
  const int64_t q_out = c.num_heads * c.head_dim, kv_out = c.num_kv_heads * c.head_dim;
  return LoadLayerStack<LlamaLayers, LlamaLayer>(
      source, c, load, [&](TensorLoader& loader, const std::string& p, LlamaLayer* l) {
        loader.Load(&l->bq, p + "attn_q.bias", {q_out}, /*optional=*/true);
        loader.Load(&l->bk, p + "attn_k.bias", {kv_out}, /*optional=*/true);
        loader.Load(&l->bv, p + "attn_v.bias", {kv_out}, /*optional=*/true);
      });
}

}  // namespace latentbus::agent::llm
