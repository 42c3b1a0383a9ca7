// internal::AddedTokenMatcher: finds added tokens (control and user-defined) in raw text, as
// Hugging Face's AddedVocabulary does for tokens with normalized=false.
//
// Matching is leftmost-longest over all added tokens, non-overlapping, left to right. A match
// of a special token when special tokens are not wanted is skipped whole: its text stays plain
// text and no other added token is looked for inside it (Hugging Face's encode_special_tokens).
//
// Thread safety: immutable after construction (Add is only called while building); Find is
// const and safe to call concurrently.
#ifndef LATENTBUS_AGENT_TOKENIZER_ADDED_TOKENS_H_
#define LATENTBUS_AGENT_TOKENIZER_ADDED_TOKENS_H_

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace latentbus::agent::tokenizer::internal {

class AddedTokenMatcher {
 public:
  AddedTokenMatcher();

  // Registers `content` (non-empty). A content registered twice keeps its first id.
  void Add(absl::string_view content, int32_t id, bool special);

  struct Match {
    size_t begin = 0;
    size_t end = 0;
    int32_t id = 0;
  };
  // Replaces *matches with the matches in `text`, in order.
  void Find(absl::string_view text, bool include_special, std::vector<Match>* matches) const;

  bool empty() const { return nodes_.size() == 1; }

 private:
  struct Node {
    int32_t id = -1;  // token ending here, or -1
    bool special = false;
  };
  int32_t Child(int32_t node, uint8_t byte) const;

  std::vector<Node> nodes_;                          // nodes_[0] is the root
  absl::flat_hash_map<uint64_t, int32_t> children_;  // (node << 8 | byte) -> node
  std::bitset<256> first_bytes_;
};

}  // namespace latentbus::agent::tokenizer::internal

#endif  // LATENTBUS_AGENT_TOKENIZER_ADDED_TOKENS_H_
