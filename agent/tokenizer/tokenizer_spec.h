// TokenizerSpec: everything needed to build a tokenizer, as plain data.
//
// The adapters fill one from a GGUF file (gguf_tokenizer.h) or a Hugging Face tokenizer.json
// (tokenizer_json.h); tests build small ones by hand. Tokenizer::Create validates it.
//
// Token text ("pieces") is stored the way the source spells it:
//   byte-level BPE   normal tokens in the GPT-2 byte alphabet ("Ġworld" is " world");
//                    control and user-defined tokens as raw text ("<|im_start|>").
//   SentencePiece    U+2581 "▁" for a space ("▁world"), byte-fallback tokens as "<0x0A>",
//                    control and user-defined tokens as raw text ("<start_of_turn>", "\n\n").
//
// Added tokens: every token typed kControl (special) or kUserDefined (not special) is also
// matched whole in the input text before the model runs, like Hugging Face's added tokens
// (normalized=false, no lstrip/rstrip/single_word). Special ones only when asked
// (EncodeOptions::parse_special); user-defined ones always.
#ifndef LATENTBUS_AGENT_TOKENIZER_TOKENIZER_SPEC_H_
#define LATENTBUS_AGENT_TOKENIZER_TOKENIZER_SPEC_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "agent/tokenizer/pretokenizer.h"

namespace latentbus::agent::tokenizer {

enum class ModelKind {
  kByteLevelBpe,      // GPT-2 family: bytes -> byte alphabet, pre-tokenizer, ranked merges
  kSentencePieceBpe,  // SentencePiece-style BPE: "▁" for spaces, merges, byte fallback
};

// SentencePiece / GGUF numbering (tokenizer.ggml.token_type).
enum class TokenType : int32_t {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,      // special: <bos>, <|im_start|>; matched in text only when asked
  kUserDefined = 4,  // matched whole in text always; not special
  kUnused = 5,
  kByte = 6,  // <0xNN> byte-fallback token
};

// How a SentencePiece-style model ranks merges when the spec lists none. The pair (left, right)
// may merge when the piece left+right is a token T. Pairs are ranked as transformers'
// generate_merges() orders the merges it derives from a vocabulary (what its tokenizer.json
// converters and GGUF loader produce): by T's key (below), then the longer left part, then the
// longer right part, then the lower id of T; equal ranks merge leftmost first.
enum class SpmMergeOrder {
  kMergesList,  // spec.merges gives the ranks (tokenizer.json); required non-empty
  kScore,       // key: higher spec.scores[T] first
  kTokenId,     // key: lower id of T first (Gemma: its vocabulary is stored in merge order)
};

struct TokenizerSpec {
  ModelKind kind = ModelKind::kByteLevelBpe;
  std::string name;  // for error messages, e.g. the file it came from

  std::vector<std::string> tokens;  // id -> piece, spelled as described above
  std::vector<float> scores;        // one per token, or empty
  std::vector<TokenType> types;     // one per token, or empty (all kNormal)
  // Merge rules, best first: (left piece, right piece); left+right must be a token.
  std::vector<std::pair<std::string, std::string>> merges;

  // Byte-level BPE only.
  PreTokenizer pre_tokenizer = PreTokenizer::kGpt2;

  // SentencePiece-style only.
  SpmMergeOrder merge_order = SpmMergeOrder::kMergesList;
  bool byte_fallback = true;      // unknown characters become <0xNN> tokens (else unk_id)
  bool add_space_prefix = false;  // prepend "▁" to the text (the "dummy prefix")

  int32_t bos_id = -1;  // -1: none
  int32_t eos_id = -1;
  int32_t unk_id = -1;
  int32_t pad_id = -1;
  bool add_bos = false;  // EncodeOptions::add_special_tokens prepends bos_id
  bool add_eos = false;  // ... and appends eos_id

  std::string architecture;   // e.g. "llama", "gemma3": selects the chat template family
  std::string chat_template;  // the Jinja source shipped with the model, may be empty
};

// TokenType for a piece whose type list is empty or short.
inline TokenType TypeOf(const TokenizerSpec& spec, size_t id) {
  return id < spec.types.size() ? spec.types[id] : TokenType::kNormal;
}

// Checks sizes, id ranges and the fields the kind requires. InvalidArgument naming the spec
// and the problem.
absl::Status ValidateSpec(const TokenizerSpec& spec);

}  // namespace latentbus::agent::tokenizer

#endif  // LATENTBUS_AGENT_TOKENIZER_TOKENIZER_SPEC_H_
