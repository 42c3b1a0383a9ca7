// UTF-8 decoding as the tokenizers see it.
//
// A well-formed sequence is the shortest encoding of a Unicode scalar value (no overlong forms,
// no surrogates U+D800..U+DFFF, nothing above U+10FFFF). Every byte that does not start a
// well-formed sequence is reported as a one-byte "invalid" unit, so a walk over any byte string
// advances by at least one byte per step and never reads past the end.
//
// Thread safety: pure functions; safe from any thread.
#ifndef LATENTBUS_AGENT_TOKENIZER_UTF8_H_
#define LATENTBUS_AGENT_TOKENIZER_UTF8_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace latentbus::agent::tokenizer {

// Stands for a byte that does not start a well-formed sequence. Outside the Unicode range, so
// it is in no character class.
inline constexpr char32_t kInvalidCodepoint = 0xFFFFFFFF;

// Decodes the unit starting at text[pos] (pos < text.size()). Returns its length in bytes
// (1..4) and stores the code point, or kInvalidCodepoint with length 1, in *cp.
size_t DecodeUtf8(absl::string_view text, size_t pos, char32_t* cp);

// True when the whole string is well-formed UTF-8.
bool IsValidUtf8(absl::string_view text);

// Appends the UTF-8 encoding of a scalar value (cp <= 0x10FFFF, not a surrogate).
void AppendUtf8(char32_t cp, std::string* out);

}  // namespace latentbus::agent::tokenizer

#endif  // LATENTBUS_AGENT_TOKENIZER_UTF8_H_
