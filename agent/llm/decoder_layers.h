// One architecture's decoder layers: their weights and what one layer computes. Each
// family is a unit of its own behind this interface (llama_layers.cc, gemma3_layers.cc);
// the transformer around them (embedding, final norm, LM head, taps) is shared.
// Internal to agent/llm (torch in the interface).
//
// Thread safety: immutable after loading; Block may run concurrently with distinct caches.
#ifndef LATENTBUS_AGENT_LLM_DECODER_LAYERS_H_
#define LATENTBUS_AGENT_LLM_DECODER_LAYERS_H_

#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "agent/llm/decode_ops.h"
#include "agent/llm/kv_cache.h"
#include "agent/llm/linear_weight.h"
#include "agent/llm/model_config.h"
#include "agent/llm/weight_source.h"

namespace latentbus::agent::llm {

class DecoderLayers {
 public:
  virtual ~DecoderLayers() = default;
  // Layer `layer` over x [T, d] (the residual stream): returns the stream after it. Keys
  // and values go to `cache` when it is not null (see Attend).
  virtual torch::Tensor Block(size_t layer, const torch::Tensor& x, KvCache* cache) const = 0;
  virtual size_t size() const = 0;
  // Scalars held by the layers' tensors, and the bytes they take (quantized or not).
  virtual size_t num_parameters() const = 0;
  virtual size_t bytes() const = 0;
};

// How weights are loaded: on `device`; with `keep_quantized` (CPU only), the matrices
// whose blocks pack stay quantized (linear_weight.h), everything else is float32; with
// `int8_activations`, their one-row products round the activations to int8 blocks.
struct WeightLoad {
  torch::Device device = torch::kCPU;
  bool keep_quantized = false;
  bool int8_activations = false;
};

// The layers of `config.family`. Errors name the missing or mis-shaped tensor.
absl::StatusOr<std::unique_ptr<DecoderLayers>> LoadDecoderLayers(const WeightSource& source,
                                                                 const ModelConfig& config,
                                                                 const WeightLoad& load);

// Each family's loader (its own .cc file), as LoadDecoderLayers.
//   Llama family (Llama, Mistral, Qwen2, SmolLM): pre-norm RMSNorm, grouped-query attention
//     with optional Q/K/V biases (Qwen2), SwiGLU feed-forward.
//   Gemma 3: RMSNorm before and after attention and feed-forward (sandwich norms), RMSNorm
//     on each query and key head (QK-norm), GeGLU (tanh GELU), sliding-window attention on
//     local layers with their own RoPE base.
absl::StatusOr<std::unique_ptr<DecoderLayers>> LoadLlamaLayers(const WeightSource& source,
                                                               const ModelConfig& config,
                                                               const WeightLoad& load);
absl::StatusOr<std::unique_ptr<DecoderLayers>> LoadGemma3Layers(const WeightSource& source,
                                                                const ModelConfig& config,
                                                                const WeightLoad& load);

// Loads GGUF-named tensors for the layer loaders, counting their scalars and bytes; after
// the first failure every further load is skipped and status() holds it.
class TensorLoader {
 public:
  TensorLoader(const WeightSource& source, const WeightLoad& load) : source_(source), load_(load) {}
  // `optional` tensors may be absent (left undefined).
  void Load(torch::Tensor* out, const std::string& name, std::vector<int64_t> shape,
            bool optional = false);
  // A matrix: packed when the load keeps weights quantized and its blocks pack.
  void LoadLinear(LinearWeight* out, const std::string& name, std::vector<int64_t> shape);
  const absl::Status& status() const { return status_; }
  size_t num_parameters() const { return num_parameters_; }
  size_t bytes() const { return bytes_; }

 private:
  const WeightSource& source_;
  WeightLoad load_;
  absl::Status status_;
  size_t num_parameters_ = 0;
  size_t bytes_ = 0;
};

// The tensors every family's layer has (GGUF names blk.N.attn_norm, attn_q, attn_k,
// attn_v, attn_output, ffn_norm, ffn_gate, ffn_up, ffn_down).
struct CommonLayerWeights {
  torch::Tensor attn_norm, ffn_norm;
  LinearWeight wq, wk, wv, wo, w_gate, w_up, w_down;
};

// A family's layers: `Layer` derives from CommonLayerWeights and adds the family's own
// tensors; the family derives from LayerStack<Layer> and writes Block (with a decode path,
// decode_ops.h, whose RoPE frequencies the stack holds).
template <typename Layer>
class LayerStack : public DecoderLayers {
 public:
  LayerStack(const ModelConfig& config, std::vector<Layer> layers, size_t num_parameters,
             size_t bytes)
      : config_(config),
        rope_(config),
        layers_(std::move(layers)),
        num_parameters_(num_parameters),
        bytes_(bytes) {}
  size_t size() const override { return layers_.size(); }
  size_t num_parameters() const override { return num_parameters_; }
  size_t bytes() const override { return bytes_; }

 protected:
  ModelConfig config_;
  DecodeRope rope_;
  std::vector<Layer> layers_;
  size_t num_parameters_;
  size_t bytes_;
};

// Loads every layer of `Stack` (a LayerStack<Layer>): the common tensors, then
// `load_own(loader, "blk.N.", &layer)` for the family's own.
template <typename Stack, typename Layer, typename LoadOwn>
absl::StatusOr<std::unique_ptr<DecoderLayers>> LoadLayerStack(const WeightSource& source,
                                                              const ModelConfig& c,
                                                              const WeightLoad& load,
                                                              LoadOwn load_own) {
  TensorLoader loader(source, load);
  const int64_t d = c.hidden_size, q_out = c.num_heads * c.head_dim,
                kv_out = c.num_kv_heads * c.head_dim;
  std::vector<Layer> layers(static_cast<size_t>(c.num_layers));
  for (size_t i = 0; i < layers.size(); ++i) {
    Layer& l = layers[i];
    const std::string p = absl::StrCat("blk.", i, ".");
    loader.Load(&l.attn_norm, p + "attn_norm.weight", {d});
    loader.LoadLinear(&l.wq, p + "attn_q.weight", {q_out, d});
    loader.LoadLinear(&l.wk, p + "attn_k.weight", {kv_out, d});
    loader.LoadLinear(&l.wv, p + "attn_v.weight", {kv_out, d});
    loader.LoadLinear(&l.wo, p + "attn_output.weight", {d, q_out});
    loader.Load(&l.ffn_norm, p + "ffn_norm.weight", {d});
    loader.LoadLinear(&l.w_gate, p + "ffn_gate.weight", {c.ffn_size, d});
    loader.LoadLinear(&l.w_up, p + "ffn_up.weight", {c.ffn_size, d});
    loader.LoadLinear(&l.w_down, p + "ffn_down.weight", {d, c.ffn_size});
    load_own(loader, p, &l);
  }
  if (!loader.status().ok()) return loader.status();
  return std::make_unique<Stack>(c, std::move(layers), loader.num_parameters(), loader.bytes());
}

}  // namespace latentbus::agent::llm

#endif  // LATENTBUS_AGENT_LLM_DECODER_LAYERS_H_
