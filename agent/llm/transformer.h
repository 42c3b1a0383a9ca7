// The decoder-only transformer on libtorch: the embedding, the family's decoder layers
// (decoder_layers.h), the final norm and the LM head, with hidden-state taps. Internal to
// agent/llm (includes torch headers: never include it from a public header).
//
// Shapes: one sequence at a time. Activations are [T, d] float32 on the model's device.
// Thread safety: a Transformer is immutable after construction; Forward may run
// concurrently with distinct KvCache objects.
#ifndef LATENTBUS_AGENT_LLM_TRANSFORMER_H_
#define LATENTBUS_AGENT_LLM_TRANSFORMER_H_

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/llm/decoder_layers.h"
#include "agent/llm/kv_cache.h"
#include "agent/llm/model_config.h"
#include "agent/llm/weight_source.h"

namespace latentbus::agent::llm {

struct Weights {
  LinearWeight token_embd;  // [vocab, d]
  LinearWeight output;      // [vocab, d]; the same matrix as token_embd when tied
  torch::Tensor output_norm;
  std::unique_ptr<DecoderLayers> layers;  // the family's own (decoder_layers.h)
  size_t num_parameters = 0;
  size_t bytes = 0;  // held in memory, quantized or float32
};

// Loads every tensor the architecture needs as `load` says. Errors name the missing or
// mis-shaped tensor.
absl::StatusOr<Weights> LoadWeights(const WeightSource& source, const ModelConfig& config,
                                    const WeightLoad& load);

class Transformer {
 public:
  Transformer(ModelConfig config, Weights weights);

  const ModelConfig& config() const { return config_; }
  const Weights& weights() const { return weights_; }

  // The input embeddings layer 0 consumes for `ids` ([T] int64): rows of token_embd
  // times the family's embedding scale. [T, d].
  torch::Tensor Embed(const torch::Tensor& ids) const;

  // Runs `x` ([T, d] input embeddings) at positions cache->length() ... and appends to
  // the cache (capacity must suffice; callers check). Returns logits [T, vocab], or
  // [1, vocab] for the last position only when `all_logits` is false. For every layer
  // index L in `taps` (0 <= L <= num_layers) `tapped` receives the hidden states in the
  // Hugging Face convention: L < num_layers is the input to block L (0: embeddings),
  // L == num_layers the final-normed output. `stop_at_last_tap`: stop once every tap is
  // taken (the layers above it, the final norm and the LM head are skipped; the cache is
  // then incomplete and the returned tensor undefined): a prefill for hidden states only.
  //
  // Autograd: Forward records what it computes when the caller has gradients enabled (the
  // Model's inference paths hold a torch::NoGradGuard). The weights never require
  // gradients, so a backward pass reaches only the inputs (soft tokens being trained).
  // `cache` may be null: the positions then start at 0 and no keys or values are kept.
  torch::Tensor Forward(const torch::Tensor& x, KvCache* cache, const std::vector<int>& taps,
                        std::vector<torch::Tensor>* tapped, bool all_logits,
                        bool stop_at_last_tap = false) const;

  // Logits of final-normed hidden rows [R, d]: [R, vocab].
  torch::Tensor Head(const torch::Tensor& normed) const;

  // The final-normed hidden states [T, d] of `x` read from position 0 without a cache;
  // differentiable like Forward. With Head on the rows a loss needs, a training step pays
  // for the vocabulary projection only there.
  torch::Tensor FinalHidden(const torch::Tensor& x) const;

 private:
  // Runs the blocks over `x` from position `start`; see Forward for the taps. Returns the
  // final-normed hidden states, or an undefined tensor when it stopped at the last tap.
  torch::Tensor Blocks(const torch::Tensor& x, KvCache* cache, const std::vector<int>& taps,
                       std::vector<torch::Tensor>* tapped, bool stop_at_last_tap) const;

  ModelConfig config_;
  Weights weights_;
};

}  // namespace latentbus::agent::llm

#endif  // LATENTBUS_AGENT_LLM_TRANSFORMER_H_
