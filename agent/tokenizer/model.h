// internal::Model: the part of a tokenizer that turns text without added tokens into tokens.
// Implemented by ByteLevelBpe (byte_level_bpe.h) and SentencePieceBpe (sentencepiece_bpe.h).
//
// Thread safety: implementations are immutable after construction; Encode and TokenBytes are
// const and safe to call concurrently.
#ifndef LATENTBUS_AGENT_TOKENIZER_MODEL_H_
#define LATENTBUS_AGENT_TOKENIZER_MODEL_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "agent/tokenizer/tokenizer.h"

namespace latentbus::agent::tokenizer::internal {

class Model {
 public:
  virtual ~Model() = default;

  // Appends the tokens of `text` to *out. `text` starts at byte `offset` of the whole input
  // (spans are reported in whole-input offsets); `at_input_start` is true when offset == 0.
  // The appended spans tile [offset, offset + text.size()).
  virtual void Encode(absl::string_view text, size_t offset, bool at_input_start,
                      std::vector<Token>* out) const = 0;

  // The bytes token `id` stands for when decoded (id in range).
  virtual absl::string_view TokenBytes(int32_t id) const = 0;
};

}  // namespace latentbus::agent::tokenizer::internal

#endif  // LATENTBUS_AGENT_TOKENIZER_MODEL_H_
