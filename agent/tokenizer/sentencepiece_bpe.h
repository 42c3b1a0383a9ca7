// SentencePiece-style BPE with byte fallback, as Hugging Face's BPE model behind a
// Replace(" ", "▁") normalizer and no pre-tokenizer (Gemma's tokenizer.json).
//
// The whole text handed to Encode is one word. It starts as one symbol per character: ' '
// becomes the "▁" token, any other character its own token when the vocabulary has it, and
// otherwise one <0xNN> byte-fallback token per UTF-8 byte (or, without byte tokens, unk_id,
// consecutive unknowns fused into one). Merges then apply by rank (bpe_merge.h), from the
// spec's merges list or derived from the vocabulary (SpmMergeOrder). Each symbol keeps the
// input bytes it covers: a "▁" covers the one space byte it replaced.
//
// Thread safety: immutable after Create; safe for concurrent use.
#ifndef LATENTBUS_AGENT_TOKENIZER_SENTENCEPIECE_BPE_H_
#define LATENTBUS_AGENT_TOKENIZER_SENTENCEPIECE_BPE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "agent/tokenizer/bpe_merge.h"
#include "agent/tokenizer/model.h"
#include "agent/tokenizer/piece_index.h"
#include "agent/tokenizer/string_table.h"
#include "agent/tokenizer/tokenizer_spec.h"

namespace latentbus::agent::tokenizer::internal {

// U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's stand-in for a space.
inline constexpr absl::string_view kSpaceMarker = "\xE2\x96\x81";

class SentencePieceBpe : public Model {
 public:
  // InvalidArgument when the vocabulary has no "▁" token, a merge names an unknown token, or
  // neither byte tokens nor unk_id can stand for unknown characters. The model reads the
  // spec's tokens in place: `spec` must outlive it, unchanged.
  static absl::StatusOr<std::unique_ptr<SentencePieceBpe>> Create(const TokenizerSpec& spec);

  void Encode(absl::string_view text, size_t offset, bool at_input_start,
              std::vector<Token>* out) const override;
  absl::string_view TokenBytes(int32_t id) const override { return bytes_[id]; }

 private:
  SentencePieceBpe() = default;
  bool Rank(int32_t left, int32_t right, std::string* scratch, uint64_t* rank,
            int32_t* new_id) const;

  const std::vector<std::string>* pieces_ = nullptr;  // the spec's tokens
  StringTable bytes_;  // id -> decoded bytes ("▁" -> ' ', <0xNN> -> the byte)
  PieceIndex vocab_;
  int32_t space_id_ = -1;  // "▁"
  int32_t unk_id_ = -1;
  bool byte_fallback_ = true;
  bool add_space_prefix_ = false;
  std::array<int32_t, 256> byte_token_{};  // byte -> <0xNN> id, or -1

  SpmMergeOrder order_ = SpmMergeOrder::kMergesList;
  struct Merge {
    uint32_t rank;
    int32_t new_id;
  };
  absl::flat_hash_map<uint64_t, Merge> merges_;  // kMergesList: (left << 32 | right) -> merge
  std::vector<uint32_t> key_rank_;               // derived orders: dense rank of each token's key
  std::vector<uint8_t> length_;  // derived orders: code points in each piece (max 255)
};

}  // namespace latentbus::agent::tokenizer::internal

#endif  // LATENTBUS_AGENT_TOKENIZER_SENTENCEPIECE_BPE_H_
