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
