#include "bridge/bridge_kind.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace latentbus::bridge {

const std::vector<BridgeKindSpec>& BridgeKinds() {
  static const std::vector<BridgeKindSpec> kinds = {
      {BridgeKind::kSelf, "self", true, true},
      {BridgeKind::kAffine, "affine", true, true},
      {BridgeKind::kProcrustes, "procrustes", true, true},
      {BridgeKind::kAdapter, "adapter", false, false},
      {BridgeKind::kResampler, "resampler", false, false},
  };
  return kinds;
}

absl::StatusOr<BridgeKindSpec> FindBridgeKind(absl::string_view name) {
  std::vector<std::string> known;
  for (const BridgeKindSpec& k : BridgeKinds()) {
    if (name == k.name) return k;
    known.push_back(k.name);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown bridge kind '", name, "' (known: ", absl::StrJoin(known, ", "), ")"));
}

std::vector<std::string> FittableBridgeKinds() {
  std::vector<std::string> out;
  for (const BridgeKindSpec& k : BridgeKinds()) {
    if (k.fittable) out.push_back(k.name);
  }
  return out;
}

}  // namespace latentbus::bridge
