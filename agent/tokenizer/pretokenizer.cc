#include "agent/tokenizer/pretokenizer.h"

#include <cstdint>

#include "agent/tokenizer/unicode_tables.h"
#include "agent/tokenizer/utf8.h"

namespace latentbus::agent::tokenizer {
namespace {

enum class CharClass : uint8_t { kLetter, kNumber, kSpace, kOther };

struct Unit {
  char32_t cp;
  size_t begin;  // byte offset in the text
  size_t end;
  CharClass cls;
};

CharClass Classify(char32_t cp) {
  if (cp == kInvalidCodepoint) return CharClass::kOther;
  if (IsLetter(cp)) return CharClass::kLetter;
  if (IsNumber(cp)) return CharClass::kNumber;
  if (IsWhiteSpace(cp)) return CharClass::kSpace;
  return CharClass::kOther;
}

void Decode(absl::string_view text, size_t begin, size_t end, std::vector<Unit>* units) {
  units->clear();
  for (size_t pos = begin; pos < end;) {
    char32_t cp;
    const size_t len = DecodeUtf8(text.substr(0, end), pos, &cp);
    units->push_back(Unit{cp, pos, pos + len, Classify(cp)});
    pos += len;
  }
}

// Length in units of the contraction ('s 't 're 've 'm 'll 'd) at units[i], or 0.
size_t ContractionAt(const std::vector<Unit>& u, size_t i) {
  if (u[i].cp != '\'' || i + 1 >= u.size()) return 0;
  const char32_t a = u[i + 1].cp;
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (i + 2 >= u.size()) return 0;
  const char32_t b = u[i + 2].cp;
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

// Length in units of the GPT-2 pattern's match at units[i] (always >= 1).
size_t Gpt2MatchAt(const std::vector<Unit>& u, size_t i) {
  const size_t n = u.size();
  if (size_t len = ContractionAt(u, i)) return len;
  // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional U+0020, then a run of one class.
  size_t start = i;
  if (u[i].cp == ' ' && i + 1 < n && u[i + 1].cls != CharClass::kSpace) start = i + 1;
  const CharClass cls = u[start].cls;
  if (cls != CharClass::kSpace) {
    size_t j = start + 1;
    while (j < n && u[j].cls == cls) ++j;
    return j - i;
  }
  // `\s+(?!\S)`: the whitespace run, less its last character when a non-space follows;
  // `\s+` when that leaves nothing.
  size_t j = i + 1;
  while (j < n && u[j].cls == CharClass::kSpace) ++j;
  if (j < n && j - i >= 2) return j - i - 1;
  return j - i;
}

void Gpt2Split(absl::string_view text, size_t begin, size_t end, std::vector<Unit>* units,
               std::vector<WordRange>* words) {
  Decode(text, begin, end, units);
  for (size_t i = 0; i < units->size();) {
    const size_t len = Gpt2MatchAt(*units, i);
    words->push_back(WordRange{(*units)[i].begin, (*units)[i + len - 1].end});
    i += len;
  }
}

}  // namespace

absl::string_view PreTokenizerName(PreTokenizer kind) {
  switch (kind) {
    case PreTokenizer::kNone:
      return "none";
    case PreTokenizer::kGpt2:
      return "gpt2";
    case PreTokenizer::kGpt2Digits:
      return "gpt2+digits";
  }
  return "unknown";
}

void PreTokenize(PreTokenizer kind, absl::string_view text, std::vector<WordRange>* words) {
  words->clear();
  if (text.empty()) return;
  std::vector<Unit> units;
  switch (kind) {
    case PreTokenizer::kNone:
      words->push_back(WordRange{0, text.size()});
      return;
    case PreTokenizer::kGpt2:
      Gpt2Split(text, 0, text.size(), &units, words);
      return;
    case PreTokenizer::kGpt2Digits: {
      // Digits(individual_digits=true) first: each number character is a piece of its own;
      // the GPT-2 pattern then runs inside every other piece.
      size_t piece_begin = 0;
      for (size_t pos = 0; pos < text.size();) {
        char32_t cp;
        const size_t len = DecodeUtf8(text, pos, &cp);
        if (cp != kInvalidCodepoint && IsNumber(cp)) {
          if (piece_begin < pos) Gpt2Split(text, piece_begin, pos, &units, words);
          words->push_back(WordRange{pos, pos + len});
          piece_begin = pos + len;
        }
        pos += len;
      }
      if (piece_begin < text.size()) Gpt2Split(text, piece_begin, text.size(), &units, words);
      return;
    }
  }
}

}  // namespace latentbus::agent::tokenizer
