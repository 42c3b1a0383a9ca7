#include "bridge/int8_matrix.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace latentbus::bridge {
namespace {

#include "bridge/int8_rounding.inc"

size_t PadTo4(size_t v) { return (v + 3) / 4 * 4; }

}  // namespace

Int8Matrix Int8Matrix::FromFloat(const float* w, size_t k, size_t n) {
  Int8Matrix m;
  m.k_ = PadTo4(k);
  m.n_ = n;
  const size_t tiles = (n + kInt8Tile - 1) / kInt8Tile;
  const size_t steps = m.k_ / 4;
  m.q_.assign(tiles * steps * 64, 0);
  m.scales_.assign(tiles * kInt8Tile, 0.0f);
  m.offset_sums_.assign(tiles * kInt8Tile, 0);
  for (size_t j = 0; j < n; ++j) {
    float amax = 0;
    for (size_t r = 0; r < k; ++r) amax = std::max(amax, std::fabs(w[r * n + j]));
    m.scales_[j] = amax / 127.0f;
    const float inverse = Int8Inverse(amax);
    int32_t sum = 0;
    for (size_t r = 0; r < k; ++r) {
      const int8_t q = static_cast<int8_t>(RoundInt8(w[r * n + j], inverse));
      m.q_[Int8PackedIndex(m.k_, r, j)] = q;
      sum += q;
    }
    m.offset_sums_[j] = 128 * sum;
  }
  return m;
}

Int8MatrixView Int8Matrix::view() const {
  return Int8MatrixView{k_, n_, q_.data(), scales_.data(), offset_sums_.data()};
}

float Int8Matrix::Dequantized(size_t row, size_t column) const {
  return scales_[column] * static_cast<float>(q_[Int8PackedIndex(k_, row, column)]);
}

void Int8Rows::Quantize(const float* x, size_t rows, size_t cols, size_t k,
                        const Int8MatmulKernels& kernels) {
  rows_ = rows;
  k_ = k;
  q_.assign(rows * k, kernels.offset_activations ? 128 : 0);
  scales_.resize(rows);
  kernels.quantize_rows(x, rows, cols, k, q_.data(), scales_.data());
}

Int8RowsView Int8Rows::view() const { return Int8RowsView{rows_, k_, q_.data(), scales_.data()}; }

}  // namespace latentbus::bridge
