// A loaded bridge: a map from one model's hidden states (at a layer) into another
// model's input-embedding space, with the fidelity measured when it was fitted.
//
// The broker only consumes this interface; implementations (affine, procrustes,
// resampler, self) live in bridge/ (libtorch) and are handed to the broker through a
// BridgeLoader (broker/bridge_registry.h). The broker never constructs one itself.
//
// Thread safety: implementations must allow concurrent Apply calls on one instance.
#ifndef LATENTBUS_BROKER_BRIDGE_H_
#define LATENTBUS_BROKER_BRIDGE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "codec/tensor.h"
#include "latentbus/v1/broker.pb.h"

namespace latentbus::broker {

// A model as bridges and policy know it: id plus weights fingerprint.
struct ModelKey {
  std::string model_id;
  std::string fingerprint;

  bool operator==(const ModelKey& o) const {
    return model_id == o.model_id && fingerprint == o.fingerprint;
  }
  template <typename H>
  friend H AbslHashValue(H h, const ModelKey& k) {
    return H::combine(std::move(h), k.model_id, k.fingerprint);
  }
  std::string ToString() const { return model_id + "@" + fingerprint; }
};

// Fidelity key the policy reads: held-out cosine similarity measured at fit time.
inline constexpr char kFidelityCosine[] = "cosine";
// Trained bridges: share of held-out questions answered as from the text (train/trainer.h).
inline constexpr char kFidelityAskAgreement[] = "ask_agreement";

struct BridgeInfo {
  std::string id;
  std::string kind;  // the artifact's kind (bridge/bridge_kind.h)
  ModelKey src;
  ModelKey dst;
  uint32_t src_layer = 0;
  uint32_t src_dim = 0;
  uint32_t dst_dim = 0;
  std::map<std::string, double> fidelity;

  // fidelity["cosine"], or -1 when the artifact recorded none.
  double cosine() const;
  // fidelity[metric], or -1 when the artifact recorded none.
  double Fidelity(const std::string& metric) const;
};

v1::BridgeInfo BridgeInfoToProto(const BridgeInfo& info);

class Bridge {
 public:
  virtual ~Bridge() = default;

  virtual const BridgeInfo& info() const = 0;

  // Maps each [T_i, src_dim] tensor of `batch` to a [T'_i, dst_dim] tensor in the
  // destination's input-embedding space (T' may differ from T for resamplers). Returns
  // one tensor per input, in order, or an error for the whole batch. Borrowed: the
  // translator hands over the values validation decoded, without copying them.
  virtual absl::StatusOr<std::vector<codec::Tensor>> Apply(
      absl::Span<const codec::Tensor* const> batch) const = 0;
};

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_BRIDGE_H_
