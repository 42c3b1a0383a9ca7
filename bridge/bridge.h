// A loaded bridge: translates source hidden states (model A, tap layer L) into the
// receiver's input-embedding space (model B). This header is torch-free (Pimpl): the
// broker includes it. The artifact format is documented in bridge/bridge_artifact.h.
//
// Thread safety: immutable after Load/FromArtifact; every method is const and safe for
// concurrent callers without external synchronization. libtorch errors are caught here
// and returned as Internal.
#ifndef LATENTBUS_BRIDGE_BRIDGE_H_
#define LATENTBUS_BRIDGE_BRIDGE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "bridge/bridge_artifact.h"
#include "codec/tensor.h"

namespace latentbus::bridge {

struct BridgeOptions {
  // The products it translates with (bridge/bridge_kernels.h): "" (LATENTBUS_BRIDGE_KERNELS
  // or float32 BLAS), "auto" (int8 where the CPU has VNNI), "blas", "int8" or an int8
  // variant's name ("scalar", "avx2", "avx2vnni", "avx512", "avx512vnni").
  std::string kernels;
  // Where the products run: "cpu", or "cuda" / "cuda:N" (libtorch's CUDA, float32 with
  // TF32 off: the CPU path's outputs to float rounding, docs/GPU.md). On a GPU the weights
  // stay on the device and each batch makes one copy there and one back; `kernels` may
  // then only be "", "auto" or "blas" (the int8 products are CPU kernels).
  // FailedPrecondition when libtorch has no CUDA or there is no such GPU.
  std::string device = "cpu";
};

class Bridge {
 public:
  // Reads and validates an artifact (DataLoss / NotFound on failure; InvalidArgument for
  // kernels this CPU or kind cannot use).
  static absl::StatusOr<std::unique_ptr<Bridge>> Load(const std::string& path,
                                                      const BridgeOptions& options = {});
  // From an in-memory artifact (InvalidArgument when it does not validate).
  static absl::StatusOr<std::unique_ptr<Bridge>> FromArtifact(const BridgeArtifact& artifact,
                                                              const BridgeOptions& options = {});
  ~Bridge();
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;

  const BridgeMetadata& metadata() const;
  const std::string& kind() const { return metadata().kind; }
  int64_t src_dim() const { return metadata().src_dim; }
  int64_t dst_dim() const { return metadata().dst_dim; }
  // "blas", the int8 variant that translates ("avx2", ...), or "cuda" on a GPU.
  const char* kernels() const;

  // FailedPrecondition, naming what differs, unless the bridge was fitted for exactly
  // this source and receiver (model ids and weight fingerprints).
  absl::Status CheckModels(const std::string& src_model_id, const std::string& src_fingerprint,
                           const std::string& dst_model_id,
                           const std::string& dst_fingerprint) const;

  // Translates each [T, src_dim] input (T >= 1; T may differ between inputs). Linear kinds
  // and the adapter return [T, dst_dim] (all inputs' rows go through one batched product);
  // the resampler returns [num_queries, dst_dim] for every input. InvalidArgument on a bad shape.
  absl::StatusOr<std::vector<codec::Tensor>> ApplyBatch(
      absl::Span<const codec::Tensor> inputs) const;
  // The same over borrowed inputs (the broker's decoded latents, not copied).
  absl::StatusOr<std::vector<codec::Tensor>> ApplyBatch(
      absl::Span<const codec::Tensor* const> inputs) const;
  absl::StatusOr<codec::Tensor> Apply(const codec::Tensor& input) const;

 private:
  struct Impl;
  explicit Bridge(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Sizes, process-wide, the thread pools a bridge's math runs on, with the runtime's rule
// (torch_edge/torch_edge.h: OpenBLAS gets the threads when present, libtorch's own pool
// otherwise). `threads` >= 1. Safe to call from any thread; it affects every later
// ApplyBatch in the process.
void SetComputeThreads(int threads);

}  // namespace latentbus::bridge

#endif  // LATENTBUS_BRIDGE_BRIDGE_H_
