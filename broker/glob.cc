#include "broker/glob.h"

#include <cstddef>

namespace latentbus::broker {

bool GlobMatch(absl::string_view pattern, absl::string_view text) {
  // Greedy match with one backtracking point (the last '*'): linear in practice.
  size_t p = 0;
  size_t t = 0;
  size_t star = absl::string_view::npos;
  size_t star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_t = t;
    } else if (star != absl::string_view::npos) {
      p = star + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool GlobMatchAny(const std::vector<std::string>& patterns, absl::string_view text) {
  for (const std::string& pattern : patterns) {
    if (GlobMatch(pattern, text)) return true;
  }
  return false;
}

}  // namespace latentbus::broker
