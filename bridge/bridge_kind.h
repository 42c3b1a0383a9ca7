// The bridge kinds an artifact may hold, in one table: the only place a kind is spelled.
// Loading, validating, fitting, applying, training and the CLI ask it what a kind is
// instead of comparing strings of their own.
//
//   self, affine, procrustes  linear, closed form: ((x - src_mean) / src_std) map * dst_std
//                             + dst_mean; `bridge fit` computes them from activation files
//   adapter                   linear map + bias plus a residual perceptron (trained, train/)
//   resampler                 K learned queries cross-attending over the sender's rows
//                             (apply only: no trainer yet)
//
// Thread safety: immutable tables.
#ifndef LATENTBUS_BRIDGE_BRIDGE_KIND_H_
#define LATENTBUS_BRIDGE_BRIDGE_KIND_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace latentbus::bridge {

enum class BridgeKind { kSelf, kAffine, kProcrustes, kAdapter, kResampler };

struct BridgeKindSpec {
  BridgeKind kind;
  const char* name;
  bool linear;    // the closed-form map above (its tensors, its fused apply)
  bool fittable;  // `latentbus bridge fit` can compute it
};

// Every kind, in the order above.
const std::vector<BridgeKindSpec>& BridgeKinds();

// The kind named `name`; InvalidArgument naming the known kinds otherwise.
absl::StatusOr<BridgeKindSpec> FindBridgeKind(absl::string_view name);

// Names of the kinds `bridge fit` computes ("self", "affine", "procrustes").
std::vector<std::string> FittableBridgeKinds();

}  // namespace latentbus::bridge

#endif  // LATENTBUS_BRIDGE_BRIDGE_KIND_H_
