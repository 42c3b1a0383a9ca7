// Fidelity of a translation into the receiver's embedding space, on paired word vectors:
//   cosine         mean cosine between translated and target word vectors
//   word_top1      nearest-neighbour (cosine) retrieval accuracy of each distinct word's
//                  translation among 100 candidate targets (consecutive blocks of 100
//                  distinct held-out words; one smaller block when fewer exist)
//   sentence_top1  the same over items, each the mean of its words' vectors
//   spectrum_corr  Pearson correlation of the sorted eigenvalues of the Euclidean
//                  distance matrices of the source and target vectors (first 100 distinct
//                  words): how isomorphic the two spaces are, independent of the bridge
//   spectrum_corr_translated  the same between translated and target vectors
//   unseen_word_top1  word_top1 restricted to held-out words that occur in no training
//                  item, candidates among those words only (chance 1 / min(100, n)):
//                  generalisation to new words, not only to new contexts of known words
//
// Thread safety: free functions over caller-owned values.
#ifndef LATENTBUS_BRIDGE_FIDELITY_H_
#define LATENTBUS_BRIDGE_FIDELITY_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "bridge/activation_file.h"
#include "bridge/bridge.h"
#include "bridge/word_align.h"

namespace latentbus::bridge {

struct Fidelity {
  double cosine = 0;
  double word_top1 = 0;
  double sentence_top1 = 0;
  double spectrum_corr = 0;
  double spectrum_corr_translated = 0;
  int64_t words = 0;           // pairs measured
  int64_t distinct_words = 0;  // word retrieval candidates in all
  int64_t sentences = 0;
  double unseen_word_top1 = 0;
  int64_t unseen_words = 0;  // distinct held-out words never seen in training
  std::map<std::string, double> ToMap() const;
};

// `translated`: pairs.size() x pairs.dst_width. InvalidArgument on a size mismatch or
// fewer than 2 pairs.
// `train_words`, when given, enables the unseen-word metric.
absl::StatusOr<Fidelity> MeasureFidelity(
    const WordPairs& pairs, const std::vector<float>& translated,
    const absl::flat_hash_set<std::string>* train_words = nullptr);

// Held-out fidelity of a linear bridge: src's hidden states at the bridge's layer
// against dst's input embeddings, over the held-out items. Unimplemented for the
// resampler (its outputs are not per word).
absl::StatusOr<Fidelity> EvaluateBridge(const Bridge& bridge, const ActivationFile& src,
                                        const ActivationFile& dst);

}  // namespace latentbus::bridge

#endif  // LATENTBUS_BRIDGE_FIDELITY_H_
