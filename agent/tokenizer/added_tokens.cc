#include "agent/tokenizer/added_tokens.h"

namespace latentbus::agent::tokenizer::internal {

AddedTokenMatcher::AddedTokenMatcher() : nodes_(1) {}

int32_t AddedTokenMatcher::Child(int32_t node, uint8_t byte) const {
  auto it = children_.find((static_cast<uint64_t>(node) << 8) | byte);
  return it == children_.end() ? -1 : it->second;
}

void AddedTokenMatcher::Add(absl::string_view content, int32_t id, bool special) {
  if (content.empty()) return;
  int32_t node = 0;
  for (char c : content) {
    const uint64_t key = (static_cast<uint64_t>(node) << 8) | static_cast<uint8_t>(c);
    auto [it, inserted] = children_.try_emplace(key, static_cast<int32_t>(nodes_.size()));
    if (inserted) nodes_.emplace_back();
    node = it->second;
  }
  if (nodes_[node].id < 0) {
    nodes_[node].id = id;
    nodes_[node].special = special;
  }
  first_bytes_.set(static_cast<uint8_t>(content[0]));
}

void AddedTokenMatcher::Find(absl::string_view text, bool include_special,
                             std::vector<Match>* matches) const {
  matches->clear();
  if (empty()) return;
  for (size_t pos = 0; pos < text.size();) {
    if (!first_bytes_.test(static_cast<uint8_t>(text[pos]))) {
      ++pos;
      continue;
    }
    // Longest token starting at pos.
    int32_t node = 0, best = -1;
    size_t best_end = pos;
    for (size_t i = pos; i < text.size(); ++i) {
      node = Child(node, static_cast<uint8_t>(text[i]));
      if (node < 0) break;
      if (nodes_[node].id >= 0) {
        best = node;
        best_end = i + 1;
      }
    }
    if (best < 0) {
      ++pos;
      continue;
    }
    if (include_special || !nodes_[best].special) {
      matches->push_back(Match{pos, best_end, nodes_[best].id});
    }
    pos = best_end;
  }
}

}  // namespace latentbus::agent::tokenizer::internal
