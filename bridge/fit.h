// Fitting linear bridges from paired word vectors (bridge/word_align.h).
//   self:       A's hidden states -> A's own input embeddings (src and dst are one model)
//   affine:     per-dimension normalizer (source mean/std -> target mean/std) + ridge
//               least squares in the normalized spaces; the ridge strength is chosen on a
//               validation subset of the training items (item % 7 == 3), then refitted
//   procrustes: normalizer + orthogonal map with one global scale; different widths are
//               handled by zero-padding the narrower side to the wider and truncating
// The result is a BridgeArtifact (bridge/bridge_artifact.h).
//
// Thread safety: free functions over caller-owned values.
#ifndef LATENTBUS_BRIDGE_FIT_H_
#define LATENTBUS_BRIDGE_FIT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bridge/activation_file.h"
#include "bridge/bridge_artifact.h"
#include "bridge/word_align.h"

namespace latentbus::bridge {

struct FitOptions {
  std::string kind = "affine";  // "self", "affine", "procrustes"
  std::vector<double> ridge_grid = {1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0};
};

// Fits the map on `train` (no model metadata filled in). InvalidArgument on an unknown
// kind or too few pairs (fewer than 2).
absl::StatusOr<BridgeArtifact> FitOnPairs(const WordPairs& train, const FitOptions& options);

// Aligns src's hidden states at `layer` with dst's input embeddings over the training
// items, fits, measures held-out fidelity (bridge/fidelity.h) into the metadata and fills
// in both models' ids and fingerprints. `self` requires src and dst to be one model.
absl::StatusOr<BridgeArtifact> FitBridge(const ActivationFile& src, const ActivationFile& dst,
                                         int layer, const FitOptions& options);

}  // namespace latentbus::bridge

#endif  // LATENTBUS_BRIDGE_FIT_H_
