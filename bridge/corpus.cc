#include "bridge/corpus.h"

#include <cstdint>
#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace latentbus::bridge {

const char* SplitOf(size_t index) { return index % 10 == 9 ? "heldout" : "train"; }

absl::StatusOr<std::vector<CorpusItem>> ReadCorpus(const std::string& path, size_t limit) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open corpus ", path));
  std::vector<CorpusItem> items;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const size_t index = items.size();
    items.push_back({line, SplitOf(index)});
    if (limit != 0 && items.size() >= limit) break;
  }
  if (items.empty()) return absl::InvalidArgumentError(absl::StrCat("corpus ", path, " is empty"));
  return items;
}

std::string CorpusHash(const std::vector<CorpusItem>& items) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](unsigned char c) {
    h ^= c;
    h *= 1099511628211ull;
  };
  for (const CorpusItem& item : items) {
    for (unsigned char c : item.text) mix(c);
    mix('\n');
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace latentbus::bridge
