#include "agent/tokenizer/piece_index.h"

#include "absl/hash/hash.h"

namespace latentbus::agent::tokenizer::internal {

size_t PieceIndex::Hash::operator()(int32_t id) const {
  return absl::HashOf(absl::string_view((*pieces)[static_cast<size_t>(id)]));
}

size_t PieceIndex::Hash::operator()(absl::string_view piece) const { return absl::HashOf(piece); }

PieceIndex::PieceIndex(const std::vector<std::string>* pieces)
    : ids_(pieces->size(), Hash{pieces}, Eq{pieces}) {
  for (size_t i = 0; i < pieces->size(); ++i) {
    const int32_t id = static_cast<int32_t>(i);
    auto [it, inserted] = ids_.insert(id);
    if (!inserted) {  // a later duplicate spelling replaces the earlier id
      ids_.erase(it);
      ids_.insert(id);
    }
  }
}

std::optional<int32_t> PieceIndex::Find(absl::string_view piece) const {
  auto it = ids_.find(piece);
  if (it == ids_.end()) return std::nullopt;
  return *it;
}

}  // namespace latentbus::agent::tokenizer::internal
