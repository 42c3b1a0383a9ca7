// Lookups over the generated tables in unicode_tables.cc.
#include <algorithm>

#include "agent/tokenizer/unicode_tables.h"

namespace latentbus::agent::tokenizer {
namespace {

using unicode_internal::CodepointRange;

bool InRanges(const CodepointRange* ranges, size_t size, char32_t cp) {
  const CodepointRange* end = ranges + size;
  // First range whose upper bound is >= cp.
  const CodepointRange* it = std::lower_bound(
      ranges, end, cp, [](const CodepointRange& r, char32_t c) { return r.hi < c; });
  return it != end && it->lo <= cp;
}

}  // namespace

bool IsLetter(char32_t cp) {
  if (cp < 0x80) return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
  return InRanges(unicode_internal::kLetterRanges, unicode_internal::kLetterRangesSize, cp);
}

bool IsNumber(char32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9';
  return InRanges(unicode_internal::kNumberRanges, unicode_internal::kNumberRangesSize, cp);
}

bool IsWhiteSpace(char32_t cp) {
  if (cp < 0x80) return cp == ' ' || (cp >= 0x09 && cp <= 0x0D);
  return InRanges(unicode_internal::kWhiteSpaceRanges, unicode_internal::kWhiteSpaceRangesSize, cp);
}

bool IsPythonSpace(char32_t cp) {
  return InRanges(unicode_internal::kPythonSpaceRanges, unicode_internal::kPythonSpaceRangesSize,
                  cp);
}

const char* UnicodeTablesVersion() { return unicode_internal::kUnicodeVersion; }

}  // namespace latentbus::agent::tokenizer
