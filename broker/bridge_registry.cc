#include "broker/bridge_registry.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace latentbus::broker {

double BridgeInfo::cosine() const { return Fidelity(kFidelityCosine); }

double BridgeInfo::Fidelity(const std::string& metric) const {
  auto it = fidelity.find(metric);
  return it == fidelity.end() ? -1.0 : it->second;
}

v1::BridgeInfo BridgeInfoToProto(const BridgeInfo& info) {
  v1::BridgeInfo out;
  out.set_bridge_id(info.id);
  out.set_kind(info.kind);
  out.set_src_model_id(info.src.model_id);
  out.set_src_fingerprint(info.src.fingerprint);
  out.set_dst_model_id(info.dst.model_id);
  out.set_dst_fingerprint(info.dst.fingerprint);
  out.set_src_layer(info.src_layer);
  out.set_src_dim(info.src_dim);
  out.set_dst_dim(info.dst_dim);
  for (const auto& [key, value] : info.fidelity) (*out.mutable_fidelity())[key] = value;
  return out;
}

BridgeRegistry::BridgeRegistry(BridgeLoader loader) : loader_(std::move(loader)) {}

absl::Status BridgeRegistry::Add(std::shared_ptr<const Bridge> bridge, bool replace) {
  if (!bridge) return absl::InvalidArgumentError("null bridge");
  const BridgeInfo& info = bridge->info();
  if (info.id.empty()) return absl::InvalidArgumentError("bridge has no id");
  PairKey key{info.src, info.dst};
  absl::MutexLock lock(&mu_);
  auto by_id = pair_of_id_.find(info.id);
  if (by_id != pair_of_id_.end() && !(by_id->second == key && replace)) {
    return absl::AlreadyExistsError(absl::StrCat("bridge id '", info.id, "' is loaded"));
  }
  auto existing = by_pair_.find(key);
  if (existing != by_pair_.end()) {
    if (!replace) {
      return absl::AlreadyExistsError(absl::StrCat("a bridge for ", info.src.ToString(), " -> ",
                                                   info.dst.ToString(), " is loaded ('",
                                                   existing->second->info().id, "'); set replace"));
    }
    pair_of_id_.erase(existing->second->info().id);
  }
  by_pair_[key] = bridge;
  pair_of_id_[info.id] = key;
  return absl::OkStatus();
}

absl::StatusOr<BridgeInfo> BridgeRegistry::Load(const v1::LoadBridgeRequest& request) {
  if (!loader_) {
    return absl::UnimplementedError(
        "this broker has no bridge loader: loading bridge artifacts arrives with bridge/");
  }
  absl::StatusOr<std::shared_ptr<const Bridge>> bridge = loader_(request);
  if (!bridge.ok()) return bridge.status();
  if (absl::Status s = Add(*bridge, request.replace()); !s.ok()) return s;
  return (*bridge)->info();
}

absl::Status BridgeRegistry::Remove(const std::string& bridge_id) {
  absl::MutexLock lock(&mu_);
  auto it = pair_of_id_.find(bridge_id);
  if (it == pair_of_id_.end()) {
    return absl::NotFoundError(absl::StrCat("no bridge '", bridge_id, "'"));
  }
  by_pair_.erase(it->second);
  pair_of_id_.erase(it);
  return absl::OkStatus();
}

std::shared_ptr<const Bridge> BridgeRegistry::Find(const ModelKey& src, const ModelKey& dst) const {
  absl::MutexLock lock(&mu_);
  auto it = by_pair_.find(PairKey{src, dst});
  return it == by_pair_.end() ? nullptr : it->second;
}

std::vector<BridgeInfo> BridgeRegistry::List() const {
  std::vector<BridgeInfo> out;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [key, bridge] : by_pair_) out.push_back(bridge->info());
  }
  std::sort(out.begin(), out.end(),
            [](const BridgeInfo& a, const BridgeInfo& b) { return a.id < b.id; });
  return out;
}

size_t BridgeRegistry::size() const {
  absl::MutexLock lock(&mu_);
  return by_pair_.size();
}

}  // namespace latentbus::broker
