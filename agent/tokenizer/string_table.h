// StringTable: many short strings in one buffer, read back by index as string_views.
//
// A std::vector<std::string> costs 32 bytes a string before the text (and a heap block for
// text over 15 bytes); for a 262,144-token vocabulary that is ~8.4 MB of headers for ~2 MB of
// text. Here each string costs its bytes plus a 4-byte offset.
//
// Thread safety: Add is not; once filled, operator[] is safe to call concurrently.
#ifndef LATENTBUS_AGENT_TOKENIZER_STRING_TABLE_H_
#define LATENTBUS_AGENT_TOKENIZER_STRING_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace latentbus::agent::tokenizer::internal {

class StringTable {
 public:
  StringTable() : ends_{0} {}

  void Reserve(size_t strings, size_t bytes) {
    ends_.reserve(strings + 1);
    text_.reserve(bytes);
  }
  // Appends a string; its index is size() - 1 afterwards. Total text stays under 4 GiB.
  void Add(absl::string_view s) {
    text_.append(s.data(), s.size());
    ends_.push_back(static_cast<uint32_t>(text_.size()));
  }
  size_t size() const { return ends_.size() - 1; }
  absl::string_view operator[](size_t i) const {
    return absl::string_view(text_).substr(ends_[i], ends_[i + 1] - ends_[i]);
  }

 private:
  std::string text_;
  std::vector<uint32_t> ends_;  // ends_[i] .. ends_[i + 1] is string i
};

}  // namespace latentbus::agent::tokenizer::internal

#endif  // LATENTBUS_AGENT_TOKENIZER_STRING_TABLE_H_
