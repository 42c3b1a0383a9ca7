#include "bridge/int8_matrix.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace latentbus::bridge {
namespace {

// Nearest integer of v * inverse (ties to even), for |v * inverse| <= 127 plus rounding:
// adding 1.5 * 2^23 leaves no fraction bits, so the addition itself rounds, ties to even,
// and vectorizes (a call to nearbyint per value would not).
int8_t Round(float v, float inverse) {
  constexpr float kMagic = 12582912.0f;
  const float q = (v * inverse + kMagic) - kMagic;
  return static_cast<int8_t>(std::clamp(q, -127.0f, 127.0f));
}

// 127 / amax, or 0 for an all-zero vector.
float Inverse(float amax) { return amax > 0 ? 127.0f / amax : 0.0f; }

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
    const float inverse = Inverse(amax);
    int8_t* column = m.q_.data() + (j / kInt8Tile) * steps * 64 + (j % kInt8Tile) * 4;
    int32_t sum = 0;
    for (size_t r = 0; r < k; ++r) {
      const int8_t q = Round(w[r * n + j], inverse);
      column[64 * (r / 4) + r % 4] = q;
      sum += q;
    }
    m.offset_sums_[j] = 128 * sum;
  }
  return m;
}

Int8MatrixView Int8Matrix::view() const {
  return Int8MatrixView{k_, n_, q_.data(), scales_.data(), offset_sums_.data()};
}

size_t Int8Matrix::bytes() const {
  return q_.size() + scales_.size() * sizeof(float) + offset_sums_.size() * sizeof(int32_t);
}

float Int8Matrix::Dequantized(size_t row, size_t column) const {
  const size_t steps = k_ / 4;
  const int8_t q =
      q_[(column / kInt8Tile) * steps * 64 + (column % kInt8Tile) * 4 + 64 * (row / 4) + row % 4];
  return scales_[column] * static_cast<float>(q);
}

void Int8Rows::Quantize(const float* x, size_t rows, size_t cols, size_t k, bool offset) {
  rows_ = rows;
  k_ = k;
  const uint8_t zero = offset ? 128 : 0;
  q_.assign(rows * k, zero);
  scales_.resize(rows);
  for (size_t i = 0; i < rows; ++i) {
    const float* row = x + i * cols;
    float amax = 0;
    bool finite = true;
    for (size_t c = 0; c < cols; ++c) {
      const float a = std::fabs(row[c]);
      finite &= a <= std::numeric_limits<float>::max();  // false for inf and NaN
      amax = a > amax ? a : amax;
    }
    if (!finite) {
      scales_[i] = std::numeric_limits<float>::quiet_NaN();
      continue;  // q stays zero
    }
    scales_[i] = amax / 127.0f;
    const float inverse = Inverse(amax);
    uint8_t* q = q_.data() + i * k;
    for (size_t c = 0; c < cols; ++c) {
      q[c] = static_cast<uint8_t>(static_cast<int>(Round(row[c], inverse)) + zero);
    }
  }
}

Int8RowsView Int8Rows::view() const { return Int8RowsView{rows_, k_, q_.data(), scales_.data()}; }

}  // namespace latentbus::bridge
