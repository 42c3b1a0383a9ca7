#include "agent/llm/packed_kernels.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace latentbus::agent::llm {
namespace {

// y[r - begin] = int8_row(r) or int4_row(r), by the layout, for rows [begin, end).
template <typename Int8Row, typename Int4Row>
void EachRow(const PackedMatrix& m, size_t begin, size_t end, float* y, Int8Row int8_row,
             Int4Row int4_row) {
  const bool int8 = m.layout() == PackedMatrix::Layout::kInt8;
  for (size_t r = begin; r < end; ++r) y[r - begin] = int8 ? int8_row(r) : int4_row(r);
}

void ScalarGemv(const PackedMatrix& m, const float* x, const float* group_sums, float* y,
                size_t begin, size_t end) {
  const size_t cols = m.cols(), group = m.group(), groups = m.groups_per_row();
  auto int8_row = [&](size_t r) {
    const int8_t* q = m.q8() + r * cols;
    const float* scale = m.scales() + r * groups;
    float acc = 0;
    for (size_t g = 0; g < groups; ++g) {
      float s = 0;
      for (size_t j = 0; j < group; ++j) {
        s += static_cast<float>(q[g * group + j]) * x[g * group + j];
      }
      acc += scale[g] * s;
    }
    return acc;
  };
  auto int4_row = [&](size_t r) {
    const uint8_t* q = m.q4() + r * cols / 2;
    const float* scale = m.scales() + r * groups;
    const float* min = m.mins() + r * groups;
    float acc = 0;
    for (size_t g = 0; g < groups; ++g) {
      float s = 0;
      for (size_t j = 0; j < 16; ++j) {
        s += static_cast<float>(q[16 * g + j] & 0x0f) * x[32 * g + j] +
             static_cast<float>(q[16 * g + j] >> 4) * x[32 * g + j + 16];
      }
      acc += scale[g] * s + min[g] * group_sums[g];
    }
    return acc;
  };
  EachRow(m, begin, end, y, int8_row, int4_row);
}

// The integer dot product of n int8 weights and n int8 activations.
int32_t DotInt8(const int8_t* q, const int8_t* x, size_t n) {
  int32_t s = 0;
  for (size_t j = 0; j < n; ++j) s += int32_t{q[j]} * int32_t{x[j]};
  return s;
}

void ScalarGemvInt8(const PackedMatrix& m, const int8_t* xq, const float* xscales,
                    const float* group_sums, float* y, size_t begin, size_t end) {
  const size_t cols = m.cols(), group = m.group(), groups = m.groups_per_row();
  auto int8_row = [&](size_t r) {
    const int8_t* q = m.q8() + r * cols;
    const float* scale = m.scales() + r * groups;
    float acc = 0;
    // A weight group of 16 is half an activation block.
    for (size_t g = 0; g < groups; ++g) {
      const float d = scale[g] * xscales[g * group / 32];
      acc += d * static_cast<float>(DotInt8(q + g * group, xq + g * group, group));
    }
    return acc;
  };
  auto int4_row = [&](size_t r) {
    const uint8_t* q = m.q4() + r * cols / 2;
    const float* scale = m.scales() + r * groups;
    const float* min = m.mins() + r * groups;
    float acc = 0;
    for (size_t g = 0; g < groups; ++g) {
      const int8_t* x = xq + 32 * g;
      int32_t s = 0;
      for (size_t j = 0; j < 16; ++j) {
        s += int32_t{q[16 * g + j] & 0x0f} * x[j] + int32_t{q[16 * g + j] >> 4} * x[j + 16];
      }
      acc += scale[g] * xscales[g] * static_cast<float>(s) + min[g] * group_sums[g];
    }
    return acc;
  };
  EachRow(m, begin, end, y, int8_row, int4_row);
}

void ScalarDequantize(const PackedMatrix& m, size_t begin, size_t end, float* out) {
  m.DequantizeRows(begin, end, out);
}

}  // namespace

// Defined in packed_kernels_avx2.cc when the build targets x86-64.
const PackedKernels* Avx2PackedKernelsIfBuilt();

const PackedKernels& ScalarPackedKernels() {
  static const PackedKernels kernels{"scalar", &ScalarGemv, &ScalarGemvInt8, &ScalarDequantize};
  return kernels;
}

const PackedKernels* Avx2PackedKernels() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    return Avx2PackedKernelsIfBuilt();
  }
#endif
  return nullptr;
}

const PackedKernels& BestPackedKernels() {
  static const PackedKernels* best = [] {
    const char* forced = std::getenv("LATENTBUS_KERNELS");
    if (forced != nullptr && std::strcmp(forced, "scalar") == 0) return &ScalarPackedKernels();
    const PackedKernels* avx2 = Avx2PackedKernels();
    return avx2 != nullptr ? avx2 : &ScalarPackedKernels();
  }();
  return *best;
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
