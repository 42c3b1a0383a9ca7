// Pre-tokenizers: how a byte-level BPE tokenizer cuts text into words before merging.
//
// Each is a hand-written equivalent of a Hugging Face `tokenizers` pre-tokenizer, evaluated on
// Unicode 14.0 character classes (unicode_tables.h):
//
//   kGpt2        ByteLevel(use_regex=true): the GPT-2 split pattern
//                  's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//                (contractions are lower-case only; ` ?` is U+0020 only; \s is White_Space).
//   kGpt2Digits  Sequence[Digits(individual_digits=true), ByteLevel(use_regex=true)]: every
//                \p{N} character becomes a word of its own, then the GPT-2 pattern splits the
//                rest. This is SmolLM2's (and StarCoder's) pre-tokenizer, llama.cpp's "smollm".
//
// Ill-formed UTF-8 bytes (utf8.h) are classed as neither letter, number nor space, i.e. they
// belong to [^\s\p{L}\p{N}]. Hugging Face never sees such bytes (its input is a Python str).
//
// Thread safety: pure functions; safe from any thread.
#ifndef LATENTBUS_AGENT_TOKENIZER_PRETOKENIZER_H_
#define LATENTBUS_AGENT_TOKENIZER_PRETOKENIZER_H_

#include <cstddef>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace latentbus::agent::tokenizer {

enum class PreTokenizer {
  kNone,        // the whole text is one word
  kGpt2,        // see above
  kGpt2Digits,  // see above
};

// Name used in errors and logs: "none", "gpt2", "gpt2+digits".
absl::string_view PreTokenizerName(PreTokenizer kind);

// A word: byte range [begin, end) of the text handed to PreTokenize.
struct WordRange {
  size_t begin = 0;
  size_t end = 0;
};

// Replaces *words with the words of `text`, in order. The words tile the text exactly: the
// first begins at 0, each begins where the previous one ends, the last ends at text.size(), and
// none is empty. An empty text has no words.
void PreTokenize(PreTokenizer kind, absl::string_view text, std::vector<WordRange>* words);

}  // namespace latentbus::agent::tokenizer

#endif  // LATENTBUS_AGENT_TOKENIZER_PRETOKENIZER_H_
