#include "broker/artifact_bridge.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bridge/bridge.h"

namespace latentbus::broker {
namespace {

// broker::Bridge over a bridge::Bridge.
class ArtifactBridge final : public Bridge {
 public:
  ArtifactBridge(std::unique_ptr<bridge::Bridge> bridge, std::string id)
      : bridge_(std::move(bridge)) {
    const bridge::BridgeMetadata& m = bridge_->metadata();
    info_.id = std::move(id);
    info_.kind = m.kind;
    info_.src = {m.src_model_id, m.src_fingerprint};
    info_.dst = {m.dst_model_id, m.dst_fingerprint};
    info_.src_layer = static_cast<uint32_t>(m.layer);
    info_.src_dim = static_cast<uint32_t>(m.src_dim);
    info_.dst_dim = static_cast<uint32_t>(m.dst_dim);
    info_.fidelity = m.fidelity;
  }

  const BridgeInfo& info() const override { return info_; }

  absl::StatusOr<std::vector<codec::Tensor>> Apply(
      absl::Span<const codec::Tensor* const> batch) const override {
    return bridge_->ApplyBatch(batch);
  }

 private:
  std::unique_ptr<bridge::Bridge> bridge_;
  BridgeInfo info_;
};

// "<src model>-><dst model>@L<layer>/<kind>".
std::string BridgeId(const bridge::Bridge& b) {
  const bridge::BridgeMetadata& m = b.metadata();
  return absl::StrCat(m.src_model_id, "->", m.dst_model_id, "@L", m.layer, "/", m.kind);
}

absl::StatusOr<std::unique_ptr<bridge::Bridge>> LoadUploaded(const std::string& bytes,
                                                             const bridge::BridgeOptions& options) {
  // The artifact reader works on files: stage the upload in a private temp file.
  char path[] = "/tmp/latentbus-bridge-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return absl::InternalError("cannot create a temporary file for the upload");
  close(fd);
  {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      std::remove(path);
      return absl::InternalError("cannot stage the uploaded bridge artifact");
    }
  }
  absl::StatusOr<std::unique_ptr<bridge::Bridge>> b = bridge::Bridge::Load(path, options);
  std::remove(path);
  return b;
}

}  // namespace

BridgeLoader ArtifactBridgeLoader(const std::string& kernels, const std::string& device) {
  const bridge::BridgeOptions options{kernels, device};
  return
      [options](
          const v1::LoadBridgeRequest& request) -> absl::StatusOr<std::shared_ptr<const Bridge>> {
        absl::StatusOr<std::unique_ptr<bridge::Bridge>> b;
        switch (request.source_case()) {
          case v1::LoadBridgeRequest::kPath:
            b = bridge::Bridge::Load(request.path(), options);
            break;
          case v1::LoadBridgeRequest::kArtifact:
            b = LoadUploaded(request.artifact(), options);
            break;
          default:
            return absl::InvalidArgumentError("LoadBridge needs a path or the artifact bytes");
        }
        if (!b.ok()) return b.status();
        std::string id = BridgeId(**b);
        return std::make_shared<const ArtifactBridge>(*std::move(b), std::move(id));
      };
}

void ApplyComputeThreads(const TranslationConfig& config) {
  if (config.compute_threads > 0) bridge::SetComputeThreads(config.compute_threads);
}

absl::StatusOr<int> LoadBridgeDirectory(const std::string& dir, BridgeRegistry* registry) {
  std::error_code ec;
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".bridge") {
      files.push_back(entry.path().string());
    }
  }
  if (ec) return absl::NotFoundError(absl::StrCat("bridge directory ", dir, ": ", ec.message()));
  std::sort(files.begin(), files.end());
  for (const std::string& file : files) {
    v1::LoadBridgeRequest request;
    request.set_path(file);
    absl::StatusOr<BridgeInfo> info = registry->Load(request);
    if (!info.ok()) {
      return absl::Status(info.status().code(),
                          absl::StrCat("bridge ", file, ": ", info.status().message()));
    }
  }
  return static_cast<int>(files.size());
}

}  // namespace latentbus::broker
