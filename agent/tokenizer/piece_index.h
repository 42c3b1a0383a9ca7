// PieceIndex: piece spelling -> token id, without a second copy of the spellings.
//
// A vocabulary of 262,144 pieces (Gemma 3) held as flat_hash_map<std::string, int32_t> costs
// ~21 MB of slots plus the copied strings; this index stores only the ids (4 bytes a slot) and
// hashes and compares through the vocabulary it was built over. When two ids spell the same
// piece, the later one wins (Hugging Face's vocabulary maps behave so).
//
// Lifetime: the index keeps a pointer to `pieces`, which must outlive it and not change.
// Thread safety: immutable after construction; Find is safe to call concurrently.
#ifndef LATENTBUS_AGENT_TOKENIZER_PIECE_INDEX_H_
#define LATENTBUS_AGENT_TOKENIZER_PIECE_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"

namespace latentbus::agent::tokenizer::internal {

class PieceIndex {
 public:
  PieceIndex() = default;
  explicit PieceIndex(const std::vector<std::string>* pieces);
  PieceIndex(PieceIndex&&) = default;
  PieceIndex& operator=(PieceIndex&&) = default;

  // The id whose piece is spelled `piece` (the highest such id), if any.
  std::optional<int32_t> Find(absl::string_view piece) const;

  // Bytes of the table itself (for memory accounting in tests).
  size_t table_bytes() const { return ids_.capacity() * (sizeof(int32_t) + 1); }

 private:
  // Hash and equality over ids and spellings alike (heterogeneous lookup by string_view).
  struct Hash {
    using is_transparent = void;
    const std::vector<std::string>* pieces = nullptr;
    size_t operator()(int32_t id) const;
    size_t operator()(absl::string_view piece) const;
  };
  struct Eq {
    using is_transparent = void;
    const std::vector<std::string>* pieces = nullptr;
    absl::string_view Spell(int32_t id) const { return (*pieces)[static_cast<size_t>(id)]; }
    absl::string_view Spell(absl::string_view piece) const { return piece; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return Spell(a) == Spell(b);
    }
  };

  absl::flat_hash_set<int32_t, Hash, Eq> ids_;
};

}  // namespace latentbus::agent::tokenizer::internal

#endif  // LATENTBUS_AGENT_TOKENIZER_PIECE_INDEX_H_
