// The scalar reference of the packed kernels (packed_kernel_variants.h): plain loops in
// the order the definitions read. Freestanding.
#include "agent/llm/packed_kernel_variants.h"
#include "codec/half.h"

namespace latentbus::agent::llm {
namespace {

// The float value of a kF16 / kBF16 element.
float HalfValue(PackedLayout layout, uint16_t h) {
  return layout == PackedLayout::kF16 ? codec::HalfToFloat(h) : codec::Bf16ToFloat(h);
}

// y[r - begin] = int8_row(r), int4_row(r) or half_row(r), by the layout, for rows
// [begin, end).
template <typename Int8Row, typename Int4Row, typename HalfRow>
void EachRow(const PackedView& m, size_t begin, size_t end, float* y, Int8Row int8_row,
             Int4Row int4_row, HalfRow half_row) {
  for (size_t r = begin; r < end; ++r) {
    y[r - begin] = m.layout == PackedLayout::kInt8   ? int8_row(r)
                   : m.layout == PackedLayout::kInt4 ? int4_row(r)
                                                     : half_row(r);
  }
}

// sum_c value(r, c) * x(c) over a 16-bit row.
template <typename X>
float HalfRowDot(const PackedView& m, size_t r, X x) {
  const uint16_t* h = m.h16 + r * m.cols;
  float acc = 0;
  for (size_t c = 0; c < m.cols; ++c) acc += HalfValue(m.layout, h[c]) * x(c);
  return acc;
}

void ScalarGemv(const PackedView& m, const float* x, const float* group_sums, float* y,
                size_t begin, size_t end) {
  const size_t cols = m.cols, group = m.group, groups = m.groups_per_row();
  auto int8_row = [&](size_t r) {
    const int8_t* q = m.q8 + r * cols;
    const float* scale = m.scales + r * groups;
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
    const uint8_t* q = m.q4 + r * cols / 2;
    const float* scale = m.scales + r * groups;
    const float* min = m.mins + r * groups;
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
  auto half_row = [&](size_t r) { return HalfRowDot(m, r, [&](size_t c) { return x[c]; }); };
  EachRow(m, begin, end, y, int8_row, int4_row, half_row);
}

// The integer dot product of n int8 weights and n int8 activations.
int32_t DotInt8(const int8_t* q, const int8_t* x, size_t n) {
  int32_t s = 0;
  for (size_t j = 0; j < n; ++j) s += int32_t{q[j]} * int32_t{x[j]};
  return s;
}

void ScalarGemvInt8(const PackedView& m, const int8_t* xq, const float* xscales,
                    const float* group_sums, float* y, size_t begin, size_t end) {
  const size_t cols = m.cols, group = m.group, groups = m.groups_per_row();
  auto int8_row = [&](size_t r) {
    const int8_t* q = m.q8 + r * cols;
    const float* scale = m.scales + r * groups;
    float acc = 0;
    // A weight group of 16 is half an activation block.
    for (size_t g = 0; g < groups; ++g) {
      const float d = scale[g] * xscales[g * group / 32];
      acc += d * static_cast<float>(DotInt8(q + g * group, xq + g * group, group));
    }
    return acc;
  };
  auto int4_row = [&](size_t r) {
    const uint8_t* q = m.q4 + r * cols / 2;
    const float* scale = m.scales + r * groups;
    const float* min = m.mins + r * groups;
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
  // 16-bit weights (which LinearWeight never multiplies this way): the rounded values.
  auto half_row = [&](size_t r) {
    return HalfRowDot(m, r, [&](size_t c) { return xscales[c / 32] * static_cast<float>(xq[c]); });
  };
  EachRow(m, begin, end, y, int8_row, int4_row, half_row);
}

void ScalarDequantize(const PackedView& m, size_t begin, size_t end, float* out) {
  const size_t n = (end - begin) * m.cols, first = begin * m.cols;
  if (m.layout == PackedLayout::kInt8) {
    for (size_t i = 0; i < n; ++i) {
      out[i] = m.scales[(first + i) / m.group] * static_cast<float>(m.q8[first + i]);
    }
    return;
  }
  if (IsHalfLayout(m.layout)) {
    for (size_t i = 0; i < n; ++i) out[i] = HalfValue(m.layout, m.h16[first + i]);
    return;
  }
  for (size_t g = 0; g < n / 32; ++g) {
    const size_t gg = first / 32 + g;
    const uint8_t* q = m.q4 + gg * 16;
    const float s = m.scales[gg], mn = m.mins[gg];
    for (int j = 0; j < 16; ++j) {
      out[32 * g + j] = s * static_cast<float>(q[j] & 0x0f) + mn;
      out[32 * g + j + 16] = s * static_cast<float>(q[j] >> 4) + mn;
    }
  }
}

}  // namespace

const PackedKernels& ScalarPackedKernels() {
  static constexpr PackedKernels kKernels{"scalar", &ScalarGemv, &ScalarGemvInt8,
                                          &ScalarDequantize};
  return kKernels;
}

}  // namespace latentbus::agent::llm
