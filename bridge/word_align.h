// Aligning two models' views of the same text across different tokenizers, by the bytes
// their tokens cover. A word is a maximal run of non-space bytes (space, tab, newline);
// a word's vector is the mean of the vectors of the tokens whose byte span overlaps it
// (tokens with empty spans, such as BOS, never count). Words no token covers are skipped.
//
// Thread safety: free functions over caller-owned values.
#ifndef LATENTBUS_BRIDGE_WORD_ALIGN_H_
#define LATENTBUS_BRIDGE_WORD_ALIGN_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "bridge/activation_file.h"

namespace latentbus::bridge {

using ByteSpan = std::pair<uint32_t, uint32_t>;

// The words of `text` as byte spans, in order.
std::vector<ByteSpan> WordSpans(const std::string& text);

// Mean-pools token vectors (`vectors`: spans.size() x width, row-major) per word of
// `text`. `words` receives the spans of the words covered, `pooled` their vectors.
void PoolWords(const std::string& text, const std::vector<ByteSpan>& spans, const float* vectors,
               int64_t width, std::vector<ByteSpan>* words, std::vector<float>* pooled);

// Paired word vectors of two activation files over the same corpus.
struct WordPairs {
  int64_t src_width = 0;
  int64_t dst_width = 0;
  std::vector<float> src;          // n x src_width
  std::vector<float> dst;          // n x dst_width
  std::vector<uint32_t> item;      // corpus item of each pair
  std::vector<std::string> words;  // the word's text
  size_t size() const { return item.size(); }
};

// Which vectors of a file to pool: hidden states at a tap layer, or input embeddings.
struct Side {
  const ActivationFile* file = nullptr;
  int layer = -1;  // -1: input embeddings
};

// Pairs the words that both sides cover, over the items of `split` ("train", "heldout",
// or "" for all). InvalidArgument when the files are not over the same items (texts
// differ) or the layer is not in the file.
absl::StatusOr<WordPairs> AlignWords(const Side& src, const Side& dst, const std::string& split);

}  // namespace latentbus::bridge

#endif  // LATENTBUS_BRIDGE_WORD_ALIGN_H_
