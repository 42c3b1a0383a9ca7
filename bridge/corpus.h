// Calibration corpora: one item per non-empty line (UTF-8). The held-out split is fixed
// by position: item i (0-based, counting non-empty lines) is "heldout" when i % 10 == 9,
// so any prefix (--limit) keeps a tenth held out.
//
// Thread safety: free functions, no shared state.
#ifndef LATENTBUS_BRIDGE_CORPUS_H_
#define LATENTBUS_BRIDGE_CORPUS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace latentbus::bridge {

struct CorpusItem {
  std::string text;
  std::string split;  // "train" or "heldout"
};

// The split of item `index`.
const char* SplitOf(size_t index);

// Reads up to `limit` items (0: all). NotFound when the file cannot be read,
// InvalidArgument when it holds no item.
absl::StatusOr<std::vector<CorpusItem>> ReadCorpus(const std::string& path, size_t limit = 0);

// Hex FNV-1a 64 of the items' texts (each followed by '\n'): the same slice, the same hash.
std::string CorpusHash(const std::vector<CorpusItem>& items);

}  // namespace latentbus::bridge

#endif  // LATENTBUS_BRIDGE_CORPUS_H_
