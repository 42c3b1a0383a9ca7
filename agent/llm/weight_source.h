// Where a model's weights come from: a GGUF file (dequantized) or a Hugging Face
// safetensors checkpoint. Internal to agent/llm (torch in the interface).
//
// Names follow the GGUF convention ("token_embd.weight", "blk.3.attn_q.weight"); each
// source maps them to its own naming and layout. Shapes are outermost first (torch
// order); values are float32 with any family-specific storage quirk undone, e.g. Gemma
// RMSNorm weights are returned as the (1 + w) the GGUF files store.
//
// Thread safety: const methods, safe to call concurrently.
#ifndef LATENTBUS_AGENT_LLM_WEIGHT_SOURCE_H_
#define LATENTBUS_AGENT_LLM_WEIGHT_SOURCE_H_

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/gguf/gguf_file.h"
#include "agent/llm/model_config.h"
#include "agent/llm/packed_matrix.h"
#include "agent/llm/safetensors_file.h"

namespace latentbus::agent::llm {

class WeightSource {
 public:
  virtual ~WeightSource() = default;
  virtual bool Has(const std::string& name) const = 0;
  // The tensor as float32 on the CPU; InvalidArgument naming it when its shape is not
  // `shape`, NotFound when absent.
  virtual absl::StatusOr<torch::Tensor> Load(const std::string& name,
                                             const std::vector<int64_t>& shape) const = 0;
  // The 2-D tensor `name` of `shape` kept in its quantized blocks or 16-bit floats
  // (packed_matrix.h), or Unimplemented when its type does not pack (the caller then Loads
  // floats).
  virtual absl::StatusOr<std::shared_ptr<const PackedMatrix>> LoadPacked(
      const std::string& name, const std::vector<int64_t>& shape) const;
};

// Dequantizes GGUF tensors (dims reversed to torch order).
std::unique_ptr<WeightSource> GgufWeights(const gguf::GgufFile& file);

// Reads Hugging Face checkpoints (one or more safetensors shards, names like
// "model.layers.3.self_attn.q_proj.weight"), for `family`.
std::unique_ptr<WeightSource> SafetensorsWeights(
    std::vector<std::unique_ptr<SafetensorsFile>> shards, Family family);

}  // namespace latentbus::agent::llm

#endif  // LATENTBUS_AGENT_LLM_WEIGHT_SOURCE_H_
