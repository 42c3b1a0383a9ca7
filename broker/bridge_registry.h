// The bridges a broker holds, looked up by (source model, destination model).
//
// At most one bridge per (src, dst) pair; ids are unique. Bridges are shared_ptr so a
// translation in flight keeps its bridge alive across an UnloadBridge.
//
// Loading artifacts is delegated to a BridgeLoader (set by whoever links bridge/); a
// registry without one answers LoadBridge with UNIMPLEMENTED.
//
// Thread safety: safe for concurrent use (internal mutex).
#ifndef LATENTBUS_BROKER_BRIDGE_REGISTRY_H_
#define LATENTBUS_BROKER_BRIDGE_REGISTRY_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "broker/bridge.h"
#include "latentbus/v1/broker.pb.h"

namespace latentbus::broker {

// Turns a LoadBridge request (a path or uploaded artifact bytes) into a bridge.
using BridgeLoader = std::function<absl::StatusOr<std::shared_ptr<const Bridge>>(
    const v1::LoadBridgeRequest& request)>;

class BridgeRegistry {
 public:
  explicit BridgeRegistry(BridgeLoader loader = nullptr);

  // Adds `bridge`. AlreadyExists when its id is taken, or when its (src, dst) pair
  // already has a bridge and `replace` is false (with `replace` the old one goes).
  absl::Status Add(std::shared_ptr<const Bridge> bridge, bool replace);

  // Loads through the loader, then Add. UNIMPLEMENTED without a loader.
  absl::StatusOr<BridgeInfo> Load(const v1::LoadBridgeRequest& request);

  // NotFound when no bridge has this id.
  absl::Status Remove(const std::string& bridge_id);

  // The bridge for (src, dst), or null.
  std::shared_ptr<const Bridge> Find(const ModelKey& src, const ModelKey& dst) const;

  std::vector<BridgeInfo> List() const;
  size_t size() const;

 private:
  struct PairKey {
    ModelKey src;
    ModelKey dst;
    bool operator==(const PairKey& o) const { return src == o.src && dst == o.dst; }
    template <typename H>
    friend H AbslHashValue(H h, const PairKey& k) {
      return H::combine(std::move(h), k.src, k.dst);
    }
  };

  const BridgeLoader loader_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<PairKey, std::shared_ptr<const Bridge>> by_pair_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, PairKey> pair_of_id_ ABSL_GUARDED_BY(mu_);
};

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_BRIDGE_REGISTRY_H_
