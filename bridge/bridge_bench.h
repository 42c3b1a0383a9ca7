// `latentbus bench bridge`: translation throughput of affine, procrustes and adapter
// (trained) bridges next to a bare matrix multiply of the linear shape ([rows, src_dim] x
// [src_dim, dst_dim]) in the same run. GFLOP/s counts that product only, so the adapter's
// ratio also shows what its residual perceptron costs on top. The kinds are synthetic
// (random weights: speed does not depend on what was fitted); `artifacts` adds real ones.
//
// Thread safety: runs on the calling thread (libtorch uses its intra-op pool).
#ifndef LATENTBUS_BRIDGE_BRIDGE_BENCH_H_
#define LATENTBUS_BRIDGE_BRIDGE_BENCH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace latentbus::bridge {

struct BridgeBenchOptions {
  int64_t src_dim = 576;
  int64_t dst_dim = 640;
  int64_t packets = 64;                // inputs per ApplyBatch call
  int64_t tokens = 32;                 // rows per input
  double min_seconds = 0.5;            // per measurement
  int64_t adapter_rank = 128;          // the synthetic adapter's residual width
  std::vector<std::string> artifacts;  // bridge files measured too (dims must match)
};

struct BridgeBenchRow {
  std::string kind;
  double translations_per_second = 0;  // input tensors (packets) per second
  double rows_per_second = 0;
  double bridge_gflops = 0;
  double matmul_gflops = 0;
  double ratio = 0;  // bridge_gflops / matmul_gflops
};

absl::StatusOr<std::vector<BridgeBenchRow>> RunBridgeBench(const BridgeBenchOptions& options);

}  // namespace latentbus::bridge

#endif  // LATENTBUS_BRIDGE_BRIDGE_BENCH_H_
