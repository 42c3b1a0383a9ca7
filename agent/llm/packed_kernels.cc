#include "agent/llm/packed_kernels.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>

namespace latentbus::agent::llm {

const PackedKernels& BestPackedKernels() {
  static const PackedKernels& best =
      ChoosePackedKernels(codec::DetectCpuFeatures(), std::getenv("LATENTBUS_KERNELS"));
  return best;
}

namespace {
std::atomic<int> packed_threads{1};
}  // namespace

void SetPackedKernelThreads(int threads) { packed_threads.store(std::max(1, threads)); }
int PackedKernelThreads() { return packed_threads.load(); }

void QuantizeActivations(const float* x, size_t cols, Int8Blocks* out) {
  out->q.resize(cols);
  out->scales.resize(cols / 32);
  for (size_t b = 0; b < cols / 32; ++b) {
    const float* v = x + 32 * b;
    float amax = 0;
    for (size_t j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(v[j]));
    const float scale = amax / 127.0f;
    const float inverse = scale > 0 ? 1.0f / scale : 0.0f;
    out->scales[b] = scale;
    for (size_t j = 0; j < 32; ++j) {
      // |v * inverse| <= 127 up to a rounding of the inverse: clamp so that it never
      // reaches -128.
      const float r = std::nearbyint(v[j] * inverse);
      out->q[32 * b + j] = static_cast<int8_t>(std::clamp(r, -127.0f, 127.0f));
    }
  }
}

void GroupSums(const float* x, size_t cols, size_t group, float* out) {
  for (size_t g = 0; g < cols / group; ++g) {
    float s = 0;
    for (size_t j = 0; j < group; ++j) s += x[g * group + j];
    out[g] = s;
  }
}

}  // namespace latentbus::agent::llm
