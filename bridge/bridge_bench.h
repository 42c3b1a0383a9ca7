// `latentbus bench bridge`: translation throughput of affine, procrustes and adapter
// (trained) bridges next to a bare float32 matrix multiply of the linear shape ([rows,
// src_dim] x [src_dim, dst_dim]) in the same run, on each of the given kernels (float32
// BLAS and the int8 variants this CPU runs: bridge/bridge_kernels.h). GFLOP/s counts that
// product only, so the adapter's ratio also shows what its residual perceptron costs on
// top (with BridgeBenchOptions::device, "cuda" rows against the product on the GPU). Each
// int8 or cuda row also gives its speed over the blas row of the same bridge and its
// error against it (root mean square over the outputs', relative). The kinds are
// synthetic (random weights: speed does not depend on what was fitted); `artifacts` adds
// real ones (whose inputs are then drawn around their source statistics).
//
// Thread safety: runs on the calling thread; sets the process's compute threads.
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
  // "blas", "int8" or int8 variant names; empty: blas and every variant this CPU runs.
  std::vector<std::string> kernels;
  int threads = 1;  // compute threads (bridge::SetComputeThreads); the broker's default is 1
  // "cuda" or "cuda:N": every bridge is also measured on that GPU (kernels "cuda"), next to
  // a bare float32 product there (cuBLAS through libtorch) and with its error against the
  // CPU's blas row. FailedPrecondition without CUDA.
  std::string device;
};

struct BridgeBenchRow {
  std::string kind;
  std::string kernels;                 // "blas", the int8 variant, or "cuda"
  double translations_per_second = 0;  // input tensors (packets) per second
  double rows_per_second = 0;
  double bridge_gflops = 0;
  double matmul_gflops = 0;  // the bare product on the row's device (CPU, or the GPU)
  double ratio = 0;          // bridge_gflops / matmul_gflops
  double vs_blas = 1;        // this row's speed over the same bridge's blas row
  double rel_error = 0;      // RMS(output - blas output) / RMS(blas output); 0 for blas
};

absl::StatusOr<std::vector<BridgeBenchRow>> RunBridgeBench(const BridgeBenchOptions& options);

}  // namespace latentbus::bridge

#endif  // LATENTBUS_BRIDGE_BRIDGE_BENCH_H_
