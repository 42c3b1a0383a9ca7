#include "agent/llm/transformer.h"

#include <algorithm>
#include <cmath>

#include "agent/llm/layer_ops.h"

namespace latentbus::agent::llm {
absl::StatusOr<Weights> LoadWeights(const WeightSource& source, const ModelConfig& c,
                                    const WeightLoad& load) {
  Weights w;
  TensorLoader loader(source, load);
  loader.LoadLinear(&w.token_embd, "token_embd.weight", {c.vocab_size, c.hidden_size});
  loader.Load(&w.output_norm, "output_norm.weight", {c.hidden_size});
  if (c.tied_embeddings) {
    w.output = w.token_embd;
  } else {
    loader.LoadLinear(&w.output, "output.weight", {c.vocab_size, c.hidden_size});
  }
  if (!loader.status().ok()) return loader.status();
  absl::StatusOr<std::unique_ptr<DecoderLayers>> layers = LoadDecoderLayers(source, c, load);
  if (!layers.ok()) return layers.status();
  w.layers = *std::move(layers);
  w.num_parameters = loader.num_parameters() + w.layers->num_parameters();
  w.bytes = loader.bytes() + w.layers->bytes();
  return w;
}

Transformer::Transformer(ModelConfig config, Weights weights)
    : config_(std::move(config)), weights_(std::move(weights)) {}

torch::Tensor Transformer::Embed(const torch::Tensor& ids) const {
  torch::Tensor x = weights_.token_embd.Rows(ids);
  if (config_.embedding_scale != 1.0) {
    // Hugging Face rounds the scale to the activation dtype (float32) before multiplying.
    x = x * static_cast<float>(config_.embedding_scale);
  }
  return x;
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
  for (size_t i = 0; i < weights_.layers->size(); ++i) {
    tap(static_cast<int>(i), x);
    if (stop_at_last_tap && static_cast<int>(i) == last_tap) return torch::Tensor();
    x = weights_.layers->Block(i, x, cache);
  }
  if (cache != nullptr) cache->Advance(input.size(0));
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
  return weights_.output.Apply(normed);
}

torch::Tensor Transformer::FinalHidden(const torch::Tensor& x) const {
  return Blocks(x, nullptr, {}, nullptr, false);
}

}  // namespace latentbus::agent::llm
