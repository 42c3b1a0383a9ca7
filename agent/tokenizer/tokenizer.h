// Tokenizer: text <-> token ids for the agent's LLM runtime, with exact byte spans.
//
// Two model kinds (tokenizer_spec.h): byte-level BPE (GPT-2 family, e.g. SmolLM2) and
// SentencePiece-style BPE with byte fallback (e.g. Gemma 3). Both reproduce Hugging Face
// `tokenizers` token for token; see README.md for what was verified and the known deviations.
//
// Encoding, in order:
//   1. Added tokens are cut out of the text: leftmost-longest match over the control and
//      user-defined tokens. A control (special) token's match is skipped, and its text left to
//      the model, unless EncodeOptions::parse_special is set. User-defined tokens always match.
//   2. Each remaining stretch of text goes to the model: byte-level BPE pre-tokenizes it and
//      merges each word; SentencePiece-style BPE maps ' ' to "▁" and merges the whole stretch.
//   3. EncodeOptions::add_special_tokens adds the spec's BOS / EOS when its add_bos / add_eos
//      says so.
//
// Spans: every Token records the bytes of the UTF-8 input it stands for as [begin, end) byte
// offsets. The spans of the tokens that come from the text tile it exactly, in order: the
// first begins at 0, each begins where the previous one ends, the last ends at text.size().
// A character split over several tokens (byte-level pieces of an emoji, byte-fallback
// <0xNN> tokens) gives each token exactly the bytes it encodes. A BOS added by
// add_special_tokens has the empty span [0, 0), an EOS [n, n). One exception to the tiling:
// a byte-level vocabulary may lack tokens for some bytes (SmolLM2 lacks 21, e.g. 0x04); such
// bytes are dropped, as Hugging Face drops them, and lie in no span or inside a token merged
// across them (byte_level_bpe.h). Spans stay non-empty, ordered and inside the input.
//
// Invalid UTF-8 never fails: each byte that does not start a well-formed sequence (utf8.h) is
// a character of its own, outside every letter/number/space class. Byte-level BPE encodes it
// as its byte token; SentencePiece-style BPE as its <0xNN> byte-fallback token (or unk_id
// when the vocabulary has no byte tokens). Decoding gives those bytes back.
//
// Decoding concatenates the bytes each token stands for, exactly: it does not replace
// ill-formed UTF-8 with U+FFFD (Hugging Face does), so Decode(Encode(x)) == x for byte-level
// BPE (bytes without a token aside) and for SentencePiece-style BPE when x contains no "▁"
// (U+2581 decodes as a space, as in Hugging Face and SentencePiece).
//
// Thread safety: a Tokenizer is immutable after Create; all methods are const and safe to call
// concurrently from multiple threads without external synchronization.
#ifndef LATENTBUS_AGENT_TOKENIZER_TOKENIZER_H_
#define LATENTBUS_AGENT_TOKENIZER_TOKENIZER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "agent/tokenizer/tokenizer_spec.h"

namespace latentbus::agent::tokenizer {

// One token of an encoding and the input bytes [begin, end) it covers.
struct Token {
  int32_t id = 0;
  size_t begin = 0;
  size_t end = 0;

  friend bool operator==(const Token& a, const Token& b) {
    return a.id == b.id && a.begin == b.begin && a.end == b.end;
  }
};

struct EncodeOptions {
  // Add BOS / EOS as the spec's add_bos / add_eos say (Hugging Face's add_special_tokens).
  bool add_special_tokens = false;
  // Recognise control tokens written in the text ("<|im_start|>", "<start_of_turn>").
  // Off by default: text from users or other agents must not smuggle in control tokens.
  // Hugging Face's default is on (split_special_tokens=False).
  bool parse_special = false;
};

struct DecodeOptions {
  // Leave out control tokens (BOS, EOS, <|im_start|>, ...).
  bool skip_special_tokens = false;
};

namespace internal {
class Model;
class AddedTokenMatcher;
class PieceIndex;
}  // namespace internal

class Tokenizer {
 public:
  // Validates the spec (ValidateSpec) and builds the model: InvalidArgument when a merge names
  // an unknown token, a byte-level vocabulary lacks a byte, a piece is not in the byte
  // alphabet, and so on.
  static absl::StatusOr<std::unique_ptr<Tokenizer>> Create(TokenizerSpec spec);

  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Never fails; see the file comment for spans and invalid UTF-8. O(n log n) in the text size.
  std::vector<Token> Encode(absl::string_view text, const EncodeOptions& options = {}) const;
  std::vector<int32_t> EncodeToIds(absl::string_view text, const EncodeOptions& options = {}) const;

  // The bytes the ids stand for. InvalidArgument naming the first id outside [0, vocab_size()).
  absl::StatusOr<std::string> Decode(absl::Span<const int32_t> ids,
                                     const DecodeOptions& options = {}) const;

  int32_t vocab_size() const { return static_cast<int32_t>(spec_.tokens.size()); }
  // The piece as the spec spells it ("Ġworld", "▁world"); InvalidArgument when out of range.
  absl::StatusOr<absl::string_view> Piece(int32_t id) const;
  // The id of a piece spelled as in the spec, if any.
  std::optional<int32_t> FindPiece(absl::string_view piece) const;
  // True for control tokens (type kControl).
  bool IsSpecial(int32_t id) const;
  std::optional<int32_t> bos_id() const;
  std::optional<int32_t> eos_id() const;

  const TokenizerSpec& spec() const { return spec_; }

 private:
  explicit Tokenizer(TokenizerSpec spec);

  TokenizerSpec spec_;
  std::unique_ptr<internal::PieceIndex> piece_to_id_;  // over spec_.tokens; later duplicates win
  std::unique_ptr<internal::Model> model_;
  std::unique_ptr<internal::AddedTokenMatcher> added_;
};

}  // namespace latentbus::agent::tokenizer

#endif  // LATENTBUS_AGENT_TOKENIZER_TOKENIZER_H_
