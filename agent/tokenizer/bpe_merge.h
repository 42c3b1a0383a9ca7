// The BPE merge loop shared by both model kinds: Hugging Face `tokenizers`' Word::merge_all,
// reproduced exactly (same tie-breaks, same handling of stale queue entries).
//
// Symbols form a doubly linked list over a vector. Every adjacent pair that has a merge rule is
// queued with its rank; the best (lowest rank, then leftmost) pair merges, its neighbours'
// pairs are queued, and stale entries (a side already merged away, or the pair now forms a
// different token) are dropped when popped. O(n log n) for n symbols.
//
// Thread safety: stateless; MergeSymbols works on the caller's vectors only.
#ifndef LATENTBUS_AGENT_TOKENIZER_BPE_MERGE_H_
#define LATENTBUS_AGENT_TOKENIZER_BPE_MERGE_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace latentbus::agent::tokenizer::internal {

struct Symbol {
  int32_t id = 0;
  int32_t prev = -1;    // index into the symbol vector, -1 at the start
  int32_t next = -1;    // -1 at the end
  bool alive = true;    // false once merged into its left neighbour
  bool frozen = false;  // never merges (e.g. an unknown-token symbol)
  size_t begin = 0;     // bytes of the input this symbol covers
  size_t end = 0;
};

struct MergeCandidate {
  uint64_t rank = 0;
  int32_t pos = 0;  // index of the left symbol
  int32_t new_id = 0;
};

struct WorseCandidate {
  // The heap's top is its "largest" element: make that the lowest rank, then the lowest pos.
  bool operator()(const MergeCandidate& a, const MergeCandidate& b) const {
    if (a.rank != b.rank) return a.rank > b.rank;
    return a.pos > b.pos;
  }
};

// `rank(left_id, right_id, &rank, &new_id)` returns true and fills rank / new_id when the
// pair has a merge rule. Symbols must be linked in order (prev/next) and alive.
template <typename RankFn>
void MergeSymbols(const RankFn& rank_fn, std::vector<Symbol>* symbols,
                  std::vector<MergeCandidate>* heap) {
  std::vector<Symbol>& s = *symbols;
  heap->clear();
  const WorseCandidate worse;
  auto maybe_push = [&](int32_t left) {
    const int32_t right = s[left].next;
    if (right < 0 || s[left].frozen || s[right].frozen) return;
    MergeCandidate c;
    c.pos = left;
    if (rank_fn(s[left].id, s[right].id, &c.rank, &c.new_id)) {
      heap->push_back(c);
      std::push_heap(heap->begin(), heap->end(), worse);
    }
  };
  for (size_t i = 0; i + 1 < s.size(); ++i) maybe_push(static_cast<int32_t>(i));

  while (!heap->empty()) {
    std::pop_heap(heap->begin(), heap->end(), worse);
    const MergeCandidate top = heap->back();
    heap->pop_back();
    Symbol& left = s[top.pos];
    if (!left.alive || left.next < 0) continue;
    Symbol& right = s[left.next];
    uint64_t rank;
    int32_t new_id;
    // Stale entry: the pair at this position no longer forms the queued token.
    if (!rank_fn(left.id, right.id, &rank, &new_id) || new_id != top.new_id) continue;

    left.id = top.new_id;
    left.end = right.end;
    right.alive = false;
    left.next = right.next;
    if (right.next >= 0) s[right.next].prev = top.pos;
    if (left.prev >= 0) maybe_push(left.prev);
    maybe_push(top.pos);
  }
}

}  // namespace latentbus::agent::tokenizer::internal

#endif  // LATENTBUS_AGENT_TOKENIZER_BPE_MERGE_H_
