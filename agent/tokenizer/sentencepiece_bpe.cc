#include "agent/tokenizer/sentencepiece_bpe.h"

#include <algorithm>
#include <numeric>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "agent/tokenizer/utf8.h"

namespace latentbus::agent::tokenizer::internal {
namespace {

uint64_t PairKey(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

// The byte of a "<0xNN>" piece (upper-case hex, as SentencePiece writes it), or -1.
int ByteOfPiece(absl::string_view piece) {
  if (piece.size() != 6 || piece.substr(0, 3) != "<0x" || piece[5] != '>') return -1;
  int value = 0;
  for (char c : piece.substr(3, 2)) {
    value <<= 4;
    if (c >= '0' && c <= '9') {
      value |= c - '0';
    } else if (c >= 'A' && c <= 'F') {
      value |= c - 'A' + 10;
    } else {
      return -1;
    }
  }
  return value;
}

size_t CodepointCount(absl::string_view piece) {
  size_t count = 0;
  char32_t cp;
  for (size_t pos = 0; pos < piece.size(); ++count) pos += DecodeUtf8(piece, pos, &cp);
  return count;
}

// Dense rank (0 = best) of each token under the order's key.
std::vector<uint32_t> KeyRanks(const TokenizerSpec& spec) {
  const size_t n = spec.tokens.size();
  std::vector<uint32_t> rank(n);
  if (spec.merge_order == SpmMergeOrder::kTokenId) {
    std::iota(rank.begin(), rank.end(), 0u);
    return rank;
  }
  std::vector<uint32_t> ids(n);
  std::iota(ids.begin(), ids.end(), 0u);
  std::stable_sort(ids.begin(), ids.end(),
                   [&](uint32_t a, uint32_t b) { return spec.scores[a] > spec.scores[b]; });
  uint32_t dense = 0;
  for (size_t i = 0; i < n; ++i) {
    if (i > 0 && spec.scores[ids[i]] != spec.scores[ids[i - 1]]) ++dense;
    rank[ids[i]] = dense;
  }
  return rank;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SentencePieceBpe>> SentencePieceBpe::Create(
    const TokenizerSpec& spec) {
  const size_t n = spec.tokens.size();
  auto invalid = [&](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat("tokenizer ", spec.name, ": ", what));
  };
  if (n >= (1u << 24)) return invalid("more than 2^24 tokens");
  std::unique_ptr<SentencePieceBpe> spm(new SentencePieceBpe());
  spm->pieces_ = &spec.tokens;
  spm->vocab_ = PieceIndex(&spec.tokens);
  spm->bytes_.Reserve(n, 0);
  spm->byte_token_.fill(-1);
  for (size_t id = 0; id < n; ++id) {
    const std::string& piece = spec.tokens[id];
    const int byte = ByteOfPiece(piece);
    if (byte >= 0) {
      spm->bytes_.Add(std::string(1, static_cast<char>(byte)));
    } else {
      spm->bytes_.Add(absl::StrReplaceAll(piece, {{kSpaceMarker, " "}}));
    }
  }
  for (int b = 0; b < 256; ++b) {
    std::optional<int32_t> id = spm->vocab_.Find(absl::StrFormat("<0x%02X>", b));
    if (id.has_value()) spm->byte_token_[b] = *id;
  }
  std::optional<int32_t> space = spm->vocab_.Find(kSpaceMarker);
  if (!space.has_value()) return invalid("no \"\xE2\x96\x81\" token");
  spm->space_id_ = *space;
  spm->unk_id_ = spec.unk_id;
  spm->byte_fallback_ = spec.byte_fallback;
  spm->add_space_prefix_ = spec.add_space_prefix;
  const bool all_bytes = std::all_of(spm->byte_token_.begin(), spm->byte_token_.end(),
                                     [](int32_t id) { return id >= 0; });
  if (!(spec.byte_fallback && all_bytes) && spec.unk_id < 0) {
    return invalid("unknown characters have neither byte-fallback tokens nor an unk token");
  }

  spm->order_ = spec.merge_order;
  if (spec.merge_order == SpmMergeOrder::kMergesList) {
    spm->merges_.reserve(spec.merges.size());
    for (size_t rank = 0; rank < spec.merges.size(); ++rank) {
      const auto& [left, right] = spec.merges[rank];
      std::optional<int32_t> l = spm->vocab_.Find(left), r = spm->vocab_.Find(right),
                             m = spm->vocab_.Find(left + right);
      if (!l.has_value() || !r.has_value() || !m.has_value()) {
        return invalid(absl::StrCat("merge ", rank, " (\"", left, " ", right,
                                    "\") names a token that does not exist"));
      }
      spm->merges_[PairKey(*l, *r)] = Merge{static_cast<uint32_t>(rank), *m};
    }
  } else {
    spm->key_rank_ = KeyRanks(spec);
    spm->length_.resize(n);
    for (size_t id = 0; id < n; ++id) {
      spm->length_[id] =
          static_cast<uint8_t>(std::min<size_t>(CodepointCount(spec.tokens[id]), 255));
    }
  }
  return spm;
}

bool SentencePieceBpe::Rank(int32_t left, int32_t right, std::string* scratch, uint64_t* rank,
                            int32_t* new_id) const {
  if (order_ == SpmMergeOrder::kMergesList) {
    auto it = merges_.find(PairKey(left, right));
    if (it == merges_.end()) return false;
    *rank = it->second.rank;
    *new_id = it->second.new_id;
    return true;
  }
  scratch->assign((*pieces_)[left]);
  scratch->append((*pieces_)[right]);
  std::optional<int32_t> merged = vocab_.Find(*scratch);
  if (!merged.has_value()) return false;
  const int32_t m = *merged;
  // key rank (24 bits) | longer left first (8) | longer right first (8) | lower id (24).
  *rank = (static_cast<uint64_t>(key_rank_[m]) << 40) |
          (static_cast<uint64_t>(255 - length_[left]) << 32) |
          (static_cast<uint64_t>(255 - length_[right]) << 24) | static_cast<uint64_t>(m);
  *new_id = m;
  return true;
}

void SentencePieceBpe::Encode(absl::string_view text, size_t offset, bool at_input_start,
                              std::vector<Token>* out) const {
  std::vector<Symbol> symbols;
  auto push = [&](int32_t id, size_t begin, size_t end, bool frozen) {
    Symbol s;
    s.id = id;
    s.prev = static_cast<int32_t>(symbols.size()) - 1;
    s.frozen = frozen;
    s.begin = begin;
    s.end = end;
    if (!symbols.empty()) symbols.back().next = static_cast<int32_t>(symbols.size());
    symbols.push_back(s);
  };
  if (add_space_prefix_ && at_input_start && !text.empty()) {
    push(space_id_, offset, offset, false);
  }
  for (size_t pos = 0; pos < text.size();) {
    char32_t cp;
    const size_t len = DecodeUtf8(text, pos, &cp);
    const size_t begin = offset + pos, end = begin + len;
    pos += len;
    if (cp == ' ') {
      push(space_id_, begin, end, false);
      continue;
    }
    if (cp != kInvalidCodepoint) {
      std::optional<int32_t> id = vocab_.Find(text.substr(pos - len, len));
      if (id.has_value()) {
        push(*id, begin, end, false);
        continue;
      }
    }
    bool have_bytes = byte_fallback_;
    for (size_t i = 0; i < len && have_bytes; ++i) {
      have_bytes = byte_token_[static_cast<uint8_t>(text[pos - len + i])] >= 0;
    }
    if (have_bytes) {
      for (size_t i = 0; i < len; ++i) {
        push(byte_token_[static_cast<uint8_t>(text[pos - len + i])], begin + i, begin + i + 1,
             false);
      }
    } else if (!symbols.empty() && symbols.back().frozen && symbols.back().id == unk_id_) {
      symbols.back().end = end;  // fuse_unk: consecutive unknowns are one token
    } else {
      push(unk_id_, begin, end, true);
    }
  }
  if (symbols.empty()) return;
  std::string scratch;
  std::vector<MergeCandidate> heap;
  MergeSymbols([&](int32_t left, int32_t right, uint64_t* rank,
                   int32_t* new_id) { return Rank(left, right, &scratch, rank, new_id); },
               &symbols, &heap);
  for (int32_t i = 0; i >= 0; i = symbols[i].next) {
    out->push_back(Token{symbols[i].id, symbols[i].begin, symbols[i].end});
  }
}

}  // namespace latentbus::agent::tokenizer::internal
