// Activation files: what one model made of a calibration corpus. Written by
// `latentbus calibrate` (agent side), read by bridge fitting and evaluation.
//
// On disk: a safetensors file (bridge/safetensors_io.h) with
//   "offsets"     I64 [N+1]     token offsets of the N items (item i: [offsets[i], offsets[i+1]))
//   "spans"       I32 [tokens,2] byte span [begin, end) of the item's text each token covers
//   "token_ids"   I32 [tokens]
//   "hidden.L"    F32 [tokens,d] hidden states at tap layer L (HF convention), per layer
//   "embeddings"  F32 [tokens,d] the model's own input embeddings of the same tokens
// and "__metadata__" {"latentbus": JSON} with format, version, model_id, fingerprint,
// layers, width, corpus, corpus_hash and items [{text, split}].
//
// Thread safety: plain values; the free functions share no state.
#ifndef LATENTBUS_BRIDGE_ACTIVATION_FILE_H_
#define LATENTBUS_BRIDGE_ACTIVATION_FILE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace latentbus::bridge {

inline constexpr int kActivationFormatVersion = 1;

struct ActivationFile {
  std::string model_id;
  std::string fingerprint;
  std::string corpus;  // corpus path as given (informational)
  std::string corpus_hash;
  std::vector<int> layers;
  int64_t width = 0;
  std::vector<std::string> texts;   // one per item
  std::vector<std::string> splits;  // "train" or "heldout", one per item
  std::vector<int64_t> offsets;     // items + 1 token offsets
  std::vector<uint32_t> spans;      // 2 per token
  std::vector<int32_t> token_ids;
  std::vector<std::vector<float>> hidden;  // per layer (order of `layers`): tokens x width
  std::vector<float> embeddings;           // tokens x width

  size_t num_items() const { return texts.size(); }
  size_t num_tokens() const { return token_ids.size(); }
  // Index of `layer` in `layers`, or -1.
  int LayerIndex(int layer) const;
  // OK when every array is consistent with the others (sizes, offsets, spans in text).
  absl::Status Validate() const;
};

absl::Status WriteActivationFile(const std::string& path, const ActivationFile& file);
// Validates structure and metadata; DataLoss / NotFound on failure.
absl::StatusOr<ActivationFile> ReadActivationFile(const std::string& path);

}  // namespace latentbus::bridge

#endif  // LATENTBUS_BRIDGE_ACTIVATION_FILE_H_
