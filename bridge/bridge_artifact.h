// Bridge artifacts on disk: safetensors tensors + "__metadata__" {"latentbus": JSON}.
// Torch-free: the fitter writes them, tests write hand-made ones, Bridge::Load reads them.
//
// Tensors by kind (row vectors: y = x W):
//   self, affine, procrustes: "src_mean" [ds], "src_std" [ds], "map" [ds, dt],
//     "dst_mean" [dt], "dst_std" [dt];  y = ((x - src_mean) / src_std) map * dst_std + dst_mean
//   adapter (trained through the receiver; keeps one output row per input row):
//     "src_mean" [ds], "src_std" [ds], "map" [ds, dt], "bias" [dt], "up" [ds, r],
//     "up_bias" [r], "down" [r, dt];  z = (x - src_mean) / src_std,
//     y = z map + bias + gelu(z up + up_bias) down   (gelu: the tanh approximation)
//   resampler (Perceiver-style, K learned queries, H heads of width h):
//     "queries" [K, dt], "wq" [dt, H*h], "wk" [ds, H*h], "wv" [ds, H*h], "wo" [H*h, dt],
//     "bo" [dt];  per head: A = softmax((Q wq)(X wk)^T / sqrt(h)); Y = queries +
//     concat_heads(A (X wv)) wo + bo. X is [T, ds] for any T >= 1; Y is [K, dt].
//
// Thread safety: free functions over caller-owned values.
#ifndef LATENTBUS_BRIDGE_BRIDGE_ARTIFACT_H_
#define LATENTBUS_BRIDGE_BRIDGE_ARTIFACT_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "codec/tensor.h"

namespace latentbus::bridge {

// Version 2 adds the adapter kind and `provenance`; version 1 files still read.
inline constexpr int kBridgeFormatVersion = 2;

// The largest src_dim, dst_dim and num_queries an artifact may declare: model widths
// (the broker accepts models up to 65536 wide), and safely within 32-bit tensor shapes.
inline constexpr int64_t kMaxBridgeDim = 65536;

struct BridgeMetadata {
  std::string kind;  // a name in bridge/bridge_kind.h
  std::string src_model_id;
  std::string src_fingerprint;
  std::string dst_model_id;
  std::string dst_fingerprint;
  int layer = 0;  // source tap layer (HF hidden_states convention)
  int64_t src_dim = 0;
  int64_t dst_dim = 0;
  int64_t num_queries = 0;  // resampler only
  int64_t num_heads = 0;    // resampler only
  std::string corpus_hash;
  int format_version = kBridgeFormatVersion;
  std::map<std::string, double> fidelity;  // held-out metrics measured at fit time
  std::map<std::string, double> fit;       // fitting details (ridge lambda, scale, ...)
  // How the artifact was made: command, seed, data hash, ... (trained bridges).
  std::map<std::string, std::string> provenance;
};

struct BridgeArtifact {
  BridgeMetadata metadata;
  std::map<std::string, codec::Tensor> tensors;
};

// Checks the tensors against the kind and dims (InvalidArgument), then writes. `bf16`:
// tensors stored as bfloat16 (half the bytes; read back widened to float, any kind).
absl::Status WriteBridgeArtifact(const std::string& path, const BridgeArtifact& artifact,
                                 bool bf16 = false);
absl::StatusOr<BridgeArtifact> ReadBridgeArtifact(const std::string& path);
// InvalidArgument unless every tensor the kind needs is present with its shape.
absl::Status ValidateBridgeArtifact(const BridgeArtifact& artifact);

}  // namespace latentbus::bridge

#endif  // LATENTBUS_BRIDGE_BRIDGE_ARTIFACT_H_
