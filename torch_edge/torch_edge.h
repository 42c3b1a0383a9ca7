// The libtorch edge shared by the runtime (agent/llm), bridges (bridge/) and training
// (train/): tensor conversion to and from codec::Tensor, the process's compute threads,
// and turning libtorch exceptions into absl errors. Includes torch: for .cc files and
// torch-side headers only, never for headers the broker, codec or SDK include.
//
// Thread safety: the conversions and Guarded are pure; SetComputeThreads changes
// process-wide pools and may be called from any thread.
#ifndef LATENTBUS_TORCH_EDGE_TORCH_EDGE_H_
#define LATENTBUS_TORCH_EDGE_TORCH_EDGE_H_

#include <torch/torch.h>

#include <exception>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "codec/tensor.h"

namespace latentbus::torch_edge {

// A float32 CPU copy of `t` (which stays untouched).
torch::Tensor ToTorch(const codec::Tensor& t);
// `t` as a codec tensor: moved to the CPU, converted to float32, copied.
codec::Tensor FromTorch(const torch::Tensor& t);

// Sizes the CPU pools for `threads` (>= 1) compute threads.
//
// Debian's libtorch runs matrix multiplies on OpenBLAS, which keeps a pthread pool of its
// own that torch::set_num_threads does not size, and everything else on libtorch's OpenMP
// pool. With both pools sized to the cores, each one's idle workers spin while the other
// works: on a 2-core machine a 2-thread prefill reached only 0.17-0.33x the bare matmul.
// Matrix multiplies carry the work, so with OpenBLAS present it gets the threads and the
// OpenMP pool stays at the calling thread. Without OpenBLAS (MKL or a GPU build)
// libtorch's own pool does both.
void SetComputeThreads(int threads);

// Runs `fn`, turning libtorch and standard exceptions into Internal errors naming `what`:
// none crosses a component boundary. `fn` returns absl::Status or absl::StatusOr<T>.
template <typename Fn>
auto Guarded(const char* what, Fn fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat(what, ": libtorch: ", e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(what, ": ", e.what()));
  }
}

}  // namespace latentbus::torch_edge

#endif  // LATENTBUS_TORCH_EDGE_TORCH_EDGE_H_
