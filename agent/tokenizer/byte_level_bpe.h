// Byte-level BPE (GPT-2 family), as Hugging Face's BPE model with a ByteLevel pre-tokenizer.
//
// Each word of the pre-tokenizer (pretokenizer.h) starts as one symbol per byte: the token for
// that byte, spelled in the GPT-2 byte alphabet (bytes_to_unicode: printable Latin-1 bytes map
// to themselves, the others to U+0100.. in order, so ' ' is "Ġ" and '\n' is "Ċ"). Merges then
// apply by rank (bpe_merge.h). Each symbol keeps the bytes it covers, so spans are exact even
// inside a multi-byte character.
//
// A byte whose single-byte token the vocabulary lacks is dropped, as Hugging Face's BPE drops a
// character it has no token for (and no unk token): its neighbours become adjacent and may
// merge, a merged token's span then includes the dropped byte, and a dropped byte between two
// tokens is in no span. SmolLM2 lacks 21 bytes: 0x04 0x06 0x13 0x14 0x16 0x1D (control
// characters), 0xC0 0xC1 0xF5..0xFF (never in well-formed UTF-8) and 0xF1 0xF2 (lead bytes of
// U+40000..U+BFFFF, unassigned planes).
//
// Thread safety: immutable after Create; safe for concurrent use.
#ifndef LATENTBUS_AGENT_TOKENIZER_BYTE_LEVEL_BPE_H_
#define LATENTBUS_AGENT_TOKENIZER_BYTE_LEVEL_BPE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "agent/tokenizer/bpe_merge.h"
#include "agent/tokenizer/model.h"
#include "agent/tokenizer/string_table.h"
#include "agent/tokenizer/tokenizer_spec.h"

namespace latentbus::agent::tokenizer::internal {

// The GPT-2 byte alphabet: the code point that spells byte b.
char32_t ByteToAlphabet(uint8_t b);

class ByteLevelBpe : public Model {
 public:
  // InvalidArgument when a normal token is not spelled in the byte alphabet or a merge names a
  // token that does not exist.
  static absl::StatusOr<std::unique_ptr<ByteLevelBpe>> Create(const TokenizerSpec& spec);

  void Encode(absl::string_view text, size_t offset, bool at_input_start,
              std::vector<Token>* out) const override;
  absl::string_view TokenBytes(int32_t id) const override { return bytes_[id]; }

 private:
  ByteLevelBpe() = default;
  void EncodeWord(absl::string_view text, size_t begin, size_t end, size_t offset,
                  std::vector<Symbol>* symbols, std::vector<MergeCandidate>* heap,
                  std::vector<Token>* out) const;

  PreTokenizer pre_tokenizer_ = PreTokenizer::kGpt2;
  StringTable bytes_;                      // id -> the bytes it stands for
  std::array<int32_t, 256> byte_token_{};  // byte -> id of its single-byte token, or -1
  struct Merge {
    uint32_t rank;
    int32_t new_id;
  };
  absl::flat_hash_map<uint64_t, Merge> merges_;  // (left id << 32 | right id) -> merge
};

}  // namespace latentbus::agent::tokenizer::internal

#endif  // LATENTBUS_AGENT_TOKENIZER_BYTE_LEVEL_BPE_H_
