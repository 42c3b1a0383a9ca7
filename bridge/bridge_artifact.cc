#include "bridge/bridge_artifact.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "bridge/bridge_kind.h"
#include "bridge/safetensors_io.h"
#include "nlohmann/json.hpp"

namespace latentbus::bridge {
namespace {

absl::Status Expect(const BridgeArtifact& a, const std::string& name,
                    const std::vector<uint32_t>& shape) {
  auto it = a.tensors.find(name);
  if (it == a.tensors.end()) {
    return absl::InvalidArgumentError(absl::StrCat(a.metadata.kind, " bridge lacks tensor ", name));
  }
  if (it->second.shape != shape || it->second.data.size() != codec::NumElements(shape)) {
    return absl::InvalidArgumentError(absl::StrCat("bridge tensor ", name, " has shape ",
                                                   codec::ShapeString(it->second.shape),
                                                   ", expected ", codec::ShapeString(shape)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateBridgeArtifact(const BridgeArtifact& a) {
  const BridgeMetadata& m = a.metadata;
  if (m.src_dim <= 0 || m.dst_dim <= 0)
    return absl::InvalidArgumentError("bridge dims must be > 0");
  // Tensor shapes are 32-bit: a larger figure would compare equal to its low 32 bits.
  if (m.src_dim > kMaxBridgeDim || m.dst_dim > kMaxBridgeDim) {
    return absl::InvalidArgumentError(absl::StrCat("bridge dims must be <= ", kMaxBridgeDim,
                                                   " (src_dim ", m.src_dim, ", dst_dim ", m.dst_dim,
                                                   ")"));
  }
  const uint32_t ds = static_cast<uint32_t>(m.src_dim), dt = static_cast<uint32_t>(m.dst_dim);
  absl::StatusOr<BridgeKindSpec> kind = FindBridgeKind(m.kind);
  if (!kind.ok()) return kind.status();
  if (kind->linear) {
    for (auto [name, shape] :
         std::vector<std::pair<std::string, std::vector<uint32_t>>>{{"src_mean", {ds}},
                                                                    {"src_std", {ds}},
                                                                    {"map", {ds, dt}},
                                                                    {"dst_mean", {dt}},
                                                                    {"dst_std", {dt}}}) {
      if (absl::Status s = Expect(a, name, shape); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  if (kind->kind == BridgeKind::kAdapter) {
    auto up = a.tensors.find("up");
    if (up == a.tensors.end() || up->second.shape.size() != 2) {
      return absl::InvalidArgumentError("adapter bridge lacks a 2-D tensor up");
    }
    const uint32_t r = up->second.shape[1];
    for (auto [name, shape] :
         std::vector<std::pair<std::string, std::vector<uint32_t>>>{{"src_mean", {ds}},
                                                                    {"src_std", {ds}},
                                                                    {"map", {ds, dt}},
                                                                    {"bias", {dt}},
                                                                    {"up", {ds, r}},
                                                                    {"up_bias", {r}},
                                                                    {"down", {r, dt}}}) {
      if (absl::Status s = Expect(a, name, shape); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  if (kind->kind == BridgeKind::kResampler) {
    if (m.num_queries <= 0 || m.num_heads <= 0 || m.num_queries > kMaxBridgeDim) {
      return absl::InvalidArgumentError(absl::StrCat("resampler needs num_queries in [1, ",
                                                     kMaxBridgeDim, "] and num_heads > 0"));
    }
    auto wq = a.tensors.find("wq");
    if (wq == a.tensors.end() || wq->second.shape.size() != 2) {
      return absl::InvalidArgumentError("resampler bridge lacks a 2-D tensor wq");
    }
    const uint32_t inner = wq->second.shape[1];
    if (inner % m.num_heads != 0) {
      return absl::InvalidArgumentError("resampler inner width is not a multiple of num_heads");
    }
    const uint32_t k = static_cast<uint32_t>(m.num_queries);
    for (auto [name, shape] :
         std::vector<std::pair<std::string, std::vector<uint32_t>>>{{"queries", {k, dt}},
                                                                    {"wq", {dt, inner}},
                                                                    {"wk", {ds, inner}},
                                                                    {"wv", {ds, inner}},
                                                                    {"wo", {inner, dt}},
                                                                    {"bo", {dt}}}) {
      if (absl::Status s = Expect(a, name, shape); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown bridge kind '", m.kind, "'"));
}

absl::Status WriteBridgeArtifact(const std::string& path, const BridgeArtifact& a, bool bf16) {
  if (absl::Status s = ValidateBridgeArtifact(a); !s.ok()) return s;
  const BridgeMetadata& m = a.metadata;
  nlohmann::json meta = {{"format", "latentbus.bridge"},
                         {"version", m.format_version},
                         {"kind", m.kind},
                         {"src_model_id", m.src_model_id},
                         {"src_fingerprint", m.src_fingerprint},
                         {"dst_model_id", m.dst_model_id},
                         {"dst_fingerprint", m.dst_fingerprint},
                         {"layer", m.layer},
                         {"src_dim", m.src_dim},
                         {"dst_dim", m.dst_dim},
                         {"num_queries", m.num_queries},
                         {"num_heads", m.num_heads},
                         {"corpus_hash", m.corpus_hash},
                         {"fidelity", m.fidelity},
                         {"fit", m.fit},
                         {"provenance", m.provenance}};
  std::vector<TensorView> views;
  for (const auto& [name, t] : a.tensors) {
    std::vector<int64_t> shape(t.shape.begin(), t.shape.end());
    views.push_back({name, bf16 ? "BF16" : "F32", shape, t.data.data()});
  }
  return WriteSafetensors(path, {{"latentbus", meta.dump()}}, views);
}

absl::StatusOr<BridgeArtifact> ReadBridgeArtifact(const std::string& path) {
  absl::StatusOr<SafetensorsContents> contents = ReadSafetensors(path);
  if (!contents.ok()) return contents.status();
  auto it = contents->metadata.find("latentbus");
  if (it == contents->metadata.end()) {
    return absl::DataLossError(absl::StrCat(path, ": not a bridge artifact (no metadata)"));
  }
  BridgeArtifact a;
  BridgeMetadata& m = a.metadata;
  try {
    nlohmann::json meta = nlohmann::json::parse(it->second);
    if (meta.at("format") != "latentbus.bridge") {
      return absl::DataLossError(absl::StrCat(path, ": not a bridge artifact"));
    }
    m.format_version = meta.at("version").get<int>();
    if (m.format_version < 1 || m.format_version > kBridgeFormatVersion) {
      return absl::DataLossError(
          absl::StrCat(path, ": unsupported bridge format version ", m.format_version));
    }
    m.kind = meta.at("kind").get<std::string>();
    m.src_model_id = meta.at("src_model_id").get<std::string>();
    m.src_fingerprint = meta.at("src_fingerprint").get<std::string>();
    m.dst_model_id = meta.at("dst_model_id").get<std::string>();
    m.dst_fingerprint = meta.at("dst_fingerprint").get<std::string>();
    m.layer = meta.at("layer").get<int>();
    m.src_dim = meta.at("src_dim").get<int64_t>();
    m.dst_dim = meta.at("dst_dim").get<int64_t>();
    m.num_queries = meta.value("num_queries", int64_t{0});
    m.num_heads = meta.value("num_heads", int64_t{0});
    m.corpus_hash = meta.at("corpus_hash").get<std::string>();
    m.fidelity = meta.value("fidelity", std::map<std::string, double>{});
    m.fit = meta.value("fit", std::map<std::string, double>{});
    m.provenance = meta.value("provenance", std::map<std::string, std::string>{});
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(absl::StrCat(path, ": malformed bridge metadata: ", e.what()));
  }
  for (auto& [name, stored] : contents->tensors) {
    codec::Tensor t;
    for (int64_t d : stored.shape) t.shape.push_back(static_cast<uint32_t>(d));
    if (absl::Status s = stored.CopyFloats(&t.data); !s.ok()) {
      return absl::DataLossError(absl::StrCat(path, ": ", name, ": ", s.message()));
    }
    a.tensors.emplace(name, std::move(t));
  }
  if (absl::Status s = ValidateBridgeArtifact(a); !s.ok()) {
    return absl::DataLossError(absl::StrCat(path, ": ", s.message()));
  }
  return a;
}

}  // namespace latentbus::bridge
