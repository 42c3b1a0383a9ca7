#include "agent/tokenizer/utf8.h"

#include <cstdint>

namespace latentbus::agent::tokenizer {

size_t DecodeUtf8(absl::string_view text, size_t pos, char32_t* cp) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
  const uint8_t b0 = byte(pos);
  const size_t left = text.size() - pos;
  *cp = kInvalidCodepoint;
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  size_t len;
  char32_t value;
  // The allowed range of the second byte (Unicode Table 3-7) rules out overlong forms,
  // surrogates and values above U+10FFFF.
  uint8_t lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    value = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    value = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    value = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 1;
  }
  if (left < len) return 1;
  const uint8_t b1 = byte(pos + 1);
  if (b1 < lo || b1 > hi) return 1;
  value = (value << 6) | (b1 & 0x3F);
  for (size_t i = 2; i < len; ++i) {
    const uint8_t b = byte(pos + i);
    if (b < 0x80 || b > 0xBF) return 1;
    value = (value << 6) | (b & 0x3F);
  }
  *cp = value;
  return len;
}

bool IsValidUtf8(absl::string_view text) {
  char32_t cp;
  for (size_t pos = 0; pos < text.size();) {
    pos += DecodeUtf8(text, pos, &cp);
    if (cp == kInvalidCodepoint) return false;
  }
  return true;
}

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace latentbus::agent::tokenizer
