#include "agent/tokenizer/byte_level_bpe.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "agent/tokenizer/utf8.h"

namespace latentbus::agent::tokenizer::internal {
namespace {

bool InAlphabetAsItself(uint8_t b) {
  return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
}

// Inverse of ByteToAlphabet: code point -> byte, or -1.
std::array<int16_t, 324> MakeAlphabetInverse() {
  std::array<int16_t, 324> inverse;
  inverse.fill(-1);
  for (int b = 0; b < 256; ++b) inverse[ByteToAlphabet(static_cast<uint8_t>(b))] = b;
  return inverse;
}

// The bytes a byte-level piece spells, or false when a character is outside the alphabet.
bool UnspellPiece(absl::string_view piece, std::string* bytes) {
  static const std::array<int16_t, 324> inverse = MakeAlphabetInverse();
  bytes->clear();
  for (size_t pos = 0; pos < piece.size();) {
    char32_t cp;
    pos += DecodeUtf8(piece, pos, &cp);
    if (cp >= inverse.size() || inverse[cp] < 0) return false;
    bytes->push_back(static_cast<char>(inverse[cp]));
  }
  return true;
}

uint64_t PairKey(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

}  // namespace

char32_t ByteToAlphabet(uint8_t b) {
  if (InAlphabetAsItself(b)) return b;
  // The other 68 bytes, in increasing order, take U+0100, U+0101, ...
  int n = 0;
  for (int c = 0; c < b; ++c) {
    if (!InAlphabetAsItself(static_cast<uint8_t>(c))) ++n;
  }
  return 0x100 + n;
}

absl::StatusOr<std::unique_ptr<ByteLevelBpe>> ByteLevelBpe::Create(const TokenizerSpec& spec) {
  std::unique_ptr<ByteLevelBpe> bpe(new ByteLevelBpe());
  bpe->pre_tokenizer_ = spec.pre_tokenizer;
  const size_t n = spec.tokens.size();
  bpe->bytes_.Reserve(n, 0);
  std::string unspelled;
  // The model's own vocabulary, keyed by spelling (Hugging Face's BPE vocab: later wins).
  absl::flat_hash_map<absl::string_view, int32_t> vocab;
  vocab.reserve(n);
  bpe->byte_token_.fill(-1);
  for (size_t id = 0; id < n; ++id) {
    const std::string& piece = spec.tokens[id];
    vocab[piece] = static_cast<int32_t>(id);
    const TokenType type = TypeOf(spec, id);
    if (type == TokenType::kControl || type == TokenType::kUserDefined) {
      // Added tokens are raw text, not spelled in the byte alphabet.
      bpe->bytes_.Add(piece);
      continue;
    }
    if (!UnspellPiece(piece, &unspelled)) {
      return absl::InvalidArgumentError(
          absl::StrCat("tokenizer ", spec.name, ": token ", id, " (\"", piece,
                       "\") is not spelled in the GPT-2 byte alphabet"));
    }
    bpe->bytes_.Add(unspelled);
  }
  // Single-byte tokens, found by spelling so a duplicate resolves as the vocabulary does. A
  // vocabulary may lack some (SmolLM2 has no token for 21 bytes, e.g. 0x04 and 0xF5..0xFF).
  for (int b = 0; b < 256; ++b) {
    std::string spelled;
    AppendUtf8(ByteToAlphabet(static_cast<uint8_t>(b)), &spelled);
    auto it = vocab.find(spelled);
    if (it != vocab.end()) bpe->byte_token_[b] = it->second;
  }
  bpe->merges_.reserve(spec.merges.size());
  std::string joined;
  for (size_t rank = 0; rank < spec.merges.size(); ++rank) {
    const auto& [left, right] = spec.merges[rank];
    joined = left + right;
    auto l = vocab.find(left), r = vocab.find(right), m = vocab.find(joined);
    if (l == vocab.end() || r == vocab.end() || m == vocab.end()) {
      return absl::InvalidArgumentError(absl::StrCat("tokenizer ", spec.name, ": merge ", rank,
                                                     " (\"", left, " ", right,
                                                     "\") names a token that does not exist"));
    }
    // A repeated pair keeps its last rank, as in Hugging Face's BPE.
    bpe->merges_[PairKey(l->second, r->second)] = Merge{static_cast<uint32_t>(rank), m->second};
  }
  return bpe;
}

void ByteLevelBpe::EncodeWord(absl::string_view text, size_t begin, size_t end, size_t offset,
                              std::vector<Symbol>* symbols, std::vector<MergeCandidate>* heap,
                              std::vector<Token>* out) const {
  symbols->clear();
  for (size_t i = begin; i < end; ++i) {
    const int32_t id = byte_token_[static_cast<uint8_t>(text[i])];
    if (id < 0) continue;  // a byte without a token is dropped, as Hugging Face's BPE does
    Symbol s;
    s.id = id;
    s.prev = static_cast<int32_t>(symbols->size()) - 1;
    s.begin = offset + i;
    s.end = offset + i + 1;
    if (!symbols->empty()) symbols->back().next = static_cast<int32_t>(symbols->size());
    symbols->push_back(s);
  }
  if (symbols->empty()) return;
  if (symbols->size() > 1) {
    MergeSymbols(
        [this](int32_t left, int32_t right, uint64_t* rank, int32_t* new_id) {
          auto it = merges_.find(PairKey(left, right));
          if (it == merges_.end()) return false;
          *rank = it->second.rank;
          *new_id = it->second.new_id;
          return true;
        },
        symbols, heap);
  }
  for (int32_t i = 0; i >= 0; i = (*symbols)[i].next) {
    const Symbol& s = (*symbols)[i];
    out->push_back(Token{s.id, s.begin, s.end});
  }
}

void ByteLevelBpe::Encode(absl::string_view text, size_t offset, bool /*at_input_start*/,
                          std::vector<Token>* out) const {
  std::vector<WordRange> words;
  PreTokenize(pre_tokenizer_, text, &words);
  std::vector<Symbol> symbols;
  std::vector<MergeCandidate> heap;
  for (const WordRange& w : words) EncodeWord(text, w.begin, w.end, offset, &symbols, &heap, out);
}

}  // namespace latentbus::agent::tokenizer::internal
