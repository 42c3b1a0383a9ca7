#include "torch_edge/torch_edge.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstring>

namespace latentbus::torch_edge {

torch::Tensor ToTorch(const codec::Tensor& t) {
  std::vector<int64_t> shape(t.shape.begin(), t.shape.end());
  return torch::from_blob(const_cast<float*>(t.data.data()), shape, torch::kFloat32).clone();
}

codec::Tensor FromTorch(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().to(torch::kCPU).to(torch::kFloat32).contiguous();
  codec::Tensor out;
  for (int64_t d : c.sizes()) out.shape.push_back(static_cast<uint32_t>(d));
  out.data.resize(static_cast<size_t>(c.numel()));
  if (!out.data.empty()) {
    std::memcpy(out.data.data(), c.data_ptr<float>(), out.data.size() * sizeof(float));
  }
  return out;
}

void SetComputeThreads(int threads) {
  threads = std::max(1, threads);
  using SetThreads = void (*)(int);
  if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
    set(threads);
    torch::set_num_threads(1);
  } else {
    torch::set_num_threads(threads);
  }
}

}  // namespace latentbus::torch_edge
