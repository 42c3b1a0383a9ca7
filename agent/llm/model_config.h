// Hyper-parameters of a decoder-only transformer, read from model metadata.
//
// One struct covers the supported families; the family decides which optional parts
// are used (Gemma 3: embedding scale, QK-norm, sandwich norms, GeGLU, local layers).
#ifndef LATENTBUS_AGENT_LLM_MODEL_CONFIG_H_
#define LATENTBUS_AGENT_LLM_MODEL_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/gguf/gguf_file.h"

namespace latentbus::agent::llm {

enum class Family {
  kLlama,   // Llama, Mistral, Qwen2, SmolLM: RMSNorm, RoPE, GQA, SwiGLU
  kGemma3,  // Gemma 3 text: scaled embeddings, QK-norm, sandwich norms, GeGLU, local layers
};

// How RoPE pairs the channels of a head: kInterleaved rotates (2i, 2i+1) (llama.cpp's
// layout for Llama-family GGUF weights, whose Q/K rows were permuted at conversion);
// kHalves rotates (i, i + d/2) (Hugging Face's rotate_half, and GGUF Gemma 3).
enum class RopeStyle { kInterleaved, kHalves };

struct ModelConfig {
  Family family = Family::kLlama;
  std::string architecture;  // as named in the file: "llama", "gemma3"
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;  // d_model
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t ffn_size = 0;
  int64_t context_length = 0;
  double rms_eps = 1e-5;
  double rope_base = 10000.0;        // global-attention layers
  double rope_local_base = 10000.0;  // local (sliding-window) layers, Gemma 3
  RopeStyle rope_style = RopeStyle::kInterleaved;
  int64_t sliding_window = 0;        // 0: every layer attends globally
  std::vector<bool> layer_is_local;  // per layer: sliding-window attention
  double attention_scale = 0.0;      // multiplies q.k; 1/sqrt(head_dim) unless the family says
  double embedding_scale = 1.0;      // multiplies token embeddings (sqrt(d) for Gemma)
  bool tied_embeddings = true;       // the output projection reuses token_embd

  // Parses `<arch>.*` keys. InvalidArgument for an unsupported architecture or
  // inconsistent values (e.g. heads not dividing the width).
  static absl::StatusOr<ModelConfig> FromGguf(const gguf::GgufFile& file);

  // Parses a Hugging Face config.json (model_type llama, mistral, qwen2, gemma3_text or
  // gemma3 with a text_config). `name` is used in errors.
  static absl::StatusOr<ModelConfig> FromHfConfig(const std::string& json_text,
                                                  const std::string& name);
};

const char* FamilyName(Family family);

}  // namespace latentbus::agent::llm

#endif  // LATENTBUS_AGENT_LLM_MODEL_CONFIG_H_
