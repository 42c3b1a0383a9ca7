// The reference int8 product (int8_matmul.h), written as the definition reads. Compiled
// with -ffp-contract=off like the vector variants, whose bits it fixes.
#include "bridge/int8_matmul.h"

namespace latentbus::bridge {
namespace {

#include "bridge/int8_rounding.inc"

void ScalarQuantizeRows(const float* x, size_t rows, size_t cols, size_t k, uint8_t* q,
                        float* scales) {
  QuantizeRowsInt8(x, rows, cols, k, /*offset=*/false, q, scales);
}

void ScalarMatmul(const Int8MatrixView& w, const Int8RowsView& x, const float* bias,
                  bool accumulate, float* out, size_t out_stride) {
  for (size_t i = 0; i < x.rows; ++i) {
    const int8_t* row = reinterpret_cast<const int8_t*>(x.q + i * x.k);
    for (size_t j = 0; j < w.n; ++j) {
      const int8_t* column = w.q + Int8PackedIndex(w.k, 0, j);
      int32_t sum = 0;
      // Rows 4s..4s+3 of a column sit side by side, each step 64 bytes on: Int8PackedIndex(
      // w.k, 4s + u, 0) = 64s + u.
      for (size_t s = 0; s < w.k / 4; ++s) {
        for (size_t u = 0; u < 4; ++u) sum += int32_t{row[4 * s + u]} * column[64 * s + u];
      }
      float& o = out[i * out_stride + j];
      const float base = accumulate ? o : (bias != nullptr ? bias[j] : 0.0f);
      const float scale = x.scales[i] * w.scales[j];
      o = base + static_cast<float>(sum) * scale;
    }
  }
}

}  // namespace

const Int8MatmulKernels& ScalarInt8MatmulKernels() {
  static constexpr Int8MatmulKernels kKernels{"scalar", false, &ScalarMatmul, &ScalarQuantizeRows};
  return kKernels;
}

}  // namespace latentbus::bridge
