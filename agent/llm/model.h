// A frozen LLM hosted by an agent: load, tokenize, encode to hidden states, and
// generate from prompts that mix text with embedding segments (soft tokens).
//
// This header is free of torch (Pimpl): the agent process, the SDK and tools include
// it without paying for libtorch headers.
//
// Thread safety: after Load, every method is const and safe to call concurrently; each
// call runs its own KV cache. Errors are absl::Status (libtorch exceptions are caught
// at this boundary and converted to Internal errors).
#ifndef LATENTBUS_AGENT_LLM_MODEL_H_
#define LATENTBUS_AGENT_LLM_MODEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "codec/packet.h"
#include "codec/tensor.h"

namespace latentbus::agent::llm {

struct LoadOptions {
  // "cpu" or "cuda" / "cuda:N" (needs a CUDA build of libtorch; checked on an H100 with
  // PyTorch 2.11's libtorch, docs/RUNTIME.md). An N the machine lacks: FailedPrecondition.
  std::string device = "cpu";
  // Intra-op threads for libtorch (process-wide); 0: one per core.
  int threads = 0;
  // On the CPU, GGUF weight matrices in Q8_0, Q5_0, Q6_K, Q4_1 or Q4_K stay quantized in
  // memory (about a quarter of the float32 bytes; decoding reads that much less), and F16 /
  // BF16 matrices (GGUF or safetensors, 32k columns) stay 16-bit (half the bytes); our own
  // kernels multiply them. false: every weight float32, as autograd through the model
  // needs (bridge training).
  bool keep_quantized = true;
  // With weights kept quantized (the int8 and int4 layouts, not 16-bit ones): a one-row
  // product (every decode step, and the LM head
  // of a prefill's last position) rounds its activation row to int8 in blocks of 32 and
  // multiplies with integer instructions. Faster (docs/RUNTIME.md), but the rounding moves
  // logits by up to ~3 on the real models and changes some greedy continuations, so it is
  // off by default: float activations, exact up to the order of additions.
  bool int8_activations = false;
};

struct ModelInfo {
  std::string model_id;     // stable name derived from the file name
  std::string fingerprint;  // hex hash of the weights' metadata and tensor table
  std::string family;       // "llama", "gemma3"
  std::string architecture;
  std::string path;
  int64_t hidden_size = 0;
  int64_t embedding_size = 0;  // width of the input-embedding space (== hidden_size here)
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t ffn_size = 0;
  int64_t vocab_size = 0;
  int64_t context_length = 0;
  size_t num_parameters = 0;
  size_t weight_bytes = 0;        // weights held in memory (quantized or float32)
  bool quantized = false;         // some weights are held quantized (LoadOptions::keep_quantized)
  bool int8_activations = false;  // their one-row products round activations to int8
  std::string device;
  int threads = 0;
};

// One piece of a prompt: text (tokenized by the model), explicit token ids, or
// embedding rows [n, d] fed to the first layer as they are (soft tokens).
struct PromptSegment {
  enum class Kind { kText, kTokens, kEmbeddings, kLatent };
  static PromptSegment Text(std::string text, bool parse_special = true);
  static PromptSegment Tokens(std::vector<int32_t> ids);
  static PromptSegment Embeddings(codec::Tensor rows);
  // Soft tokens as a packet ([n, embedding_size]): on a GPU an int8/int4 packet is
  // dequantized (and unrotated) there by the device codec, without a host float copy.
  static PromptSegment Latent(codec::Packet packet);
  Kind kind = Kind::kText;
  std::string text;
  bool parse_special = true;  // recognise special-token strings in text
  std::vector<int32_t> ids;
  codec::Tensor embeddings;
  codec::Packet latent;
};

struct GenerateOptions {
  int max_new_tokens = 64;
  float temperature = 0.0f;  // 0: greedy
  float top_p = 1.0f;        // nucleus sampling when temperature > 0
  uint64_t seed = 0;
  // Prepend the model's BOS token (when it uses one), unless the prompt starts with a
  // Tokens segment (explicit ids are taken as they are).
  bool add_bos = true;
  std::vector<std::string> stop;  // stop strings (the end-of-turn/EOS tokens always stop)
  // Keep generating through end-of-sequence tokens (benchmarks want fixed lengths).
  bool ignore_eos = false;
};

struct GenerateResult {
  std::string text;
  std::vector<int32_t> tokens;
  int64_t prompt_tokens = 0;
  double prefill_seconds = 0;
  double decode_seconds = 0;
  std::string stop_reason;  // "eos", "stop_string", "max_tokens", "context"
};

struct EncodeResult {
  std::vector<int32_t> token_ids;
  // Byte span [begin, end) of the input text each token covers.
  std::vector<std::pair<uint32_t, uint32_t>> spans;
  // One [T, d] tensor per requested layer, in the order requested. Layer L < num_layers
  // is the input to decoder block L (0: the scaled input embeddings); L == num_layers
  // is the final-normed output (the Hugging Face `hidden_states` convention).
  std::vector<codec::Tensor> hidden;
};

// A message's hidden states as a latent packet (Model::EncodeLatent).
struct LatentResult {
  std::vector<int32_t> token_ids;
  // Shape [T, hidden_size] (T without a dropped BOS row), model metadata unset.
  codec::Packet packet;
  // Whether the quantization ran on the GPU (codec/cuda): the hidden states never left it.
  bool on_device = false;
  double prefill_seconds = 0;
  double codec_seconds = 0;
};

struct ForwardResult {
  codec::Tensor logits;               // [T, vocab] or [1, vocab] (last position)
  std::vector<codec::Tensor> hidden;  // as in EncodeResult
};

struct ModelInternals;  // agent/llm/differentiable.cc: training access to the Impl

class Model {
 public:
  // `path`: a GGUF file, or a Hugging Face folder (config.json, model.safetensors or
  // sharded safetensors with their index, tokenizer.json).
  static absl::StatusOr<std::unique_ptr<Model>> Load(const std::string& path,
                                                     const LoadOptions& options = {});
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const ModelInfo& info() const;

  // Token ids of `text` with spans; BOS first when `add_bos` and the model uses one.
  absl::StatusOr<EncodeResult> Tokenize(const std::string& text, bool add_bos = true) const;
  absl::StatusOr<std::string> Detokenize(const std::vector<int32_t>& ids) const;

  // The model's own input embeddings of `ids`: [T, d], exactly what layer 0 reads.
  absl::StatusOr<codec::Tensor> EmbedTokens(const std::vector<int32_t>& ids) const;

  // Prefill only: tokenizes `text` and returns hidden states at `layers`.
  absl::StatusOr<EncodeResult> Encode(const std::string& text, const std::vector<int>& layers,
                                      bool add_bos = true) const;

  // Prefill only, like Encode, then the hidden states at `layer` as a packet in `encoding`;
  // `drop_bos_row` leaves out the first row when it is the BOS token's and more follow.
  // On a GPU, int8/int4 encodings are quantized (and rotated) there by the device codec
  // (codec/cuda), which writes the CPU codec's bytes: only payload and scales are copied
  // back. Elsewhere, for the float encodings, and in a build without the device codec,
  // the CPU codec encodes a host copy.
  absl::StatusOr<LatentResult> EncodeLatent(const std::string& text, int layer,
                                            const codec::Encoding& encoding,
                                            bool drop_bos_row = true) const;

  // One forward pass over a prompt of segments (no generation).
  absl::StatusOr<ForwardResult> Forward(const std::vector<PromptSegment>& prompt,
                                        const std::vector<int>& layers, bool all_logits,
                                        bool add_bos = true) const;

  absl::StatusOr<GenerateResult> Generate(const std::vector<PromptSegment>& prompt,
                                          const GenerateOptions& options = {}) const;

  // Formats a chat of (role, content) pairs with the model family's template, ending
  // with the assistant turn opener. The text carries the template's control tokens (and
  // BOS where the template writes it): give it as a Text segment with parse_special and
  // GenerateOptions::add_bos = false. Unimplemented for families without a template.
  absl::StatusOr<std::string> ChatPrompt(
      const std::vector<std::pair<std::string, std::string>>& messages) const;

 private:
  friend struct ModelInternals;
  struct Impl;
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace latentbus::agent::llm

#endif  // LATENTBUS_AGENT_LLM_MODEL_H_
