// The storage the int8 products (int8_matmul.h) read: a weight matrix rounded to int8 per
// column and packed once, and activation rows rounded to int8 per row for each product.
//
// Rounding: each column (row) gets the scale amax / 127 of its largest magnitude and its
// values v become the integer nearest v * (127 / amax), ties to even, so q is in
// [-127, 127]; an all-zero column (row) keeps scale 0. A row with a non-finite value gets a NaN
// scale (its products are NaN, as the float product's would not be finite). The input width is
// padded with zeros to a multiple of 4.
//
// Thread safety: an Int8Matrix is immutable after FromFloat; Int8Rows is a per-call buffer.
#ifndef LATENTBUS_BRIDGE_INT8_MATRIX_H_
#define LATENTBUS_BRIDGE_INT8_MATRIX_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "bridge/int8_matmul.h"

namespace latentbus::bridge {

class Int8Matrix {
 public:
  // From a row-major [k, n] float matrix (k <= kInt8MaxDepth, n >= 1).
  static Int8Matrix FromFloat(const float* w, size_t k, size_t n);

  Int8MatrixView view() const;
  size_t k() const { return k_; }  // padded
  size_t n() const { return n_; }
  // The value the kernels multiply by for (row, column): scale * q.
  float Dequantized(size_t row, size_t column) const;

 private:
  size_t k_ = 0, n_ = 0;
  std::vector<int8_t> q_;
  std::vector<float> scales_;         // padded to whole tiles with zeros
  std::vector<int32_t> offset_sums_;  // likewise
};

class Int8Rows {
 public:
  // Rounds `rows` rows of `cols` floats (row-major) for `kernels`' product of depth `k`
  // (cols <= k, k % 4 == 0; q + 128 where they take offset activations), with their
  // instructions (every variant gives the same bytes).
  void Quantize(const float* x, size_t rows, size_t cols, size_t k,
                const Int8MatmulKernels& kernels);
  Int8RowsView view() const;

 private:
  size_t rows_ = 0, k_ = 0;
  std::vector<uint8_t> q_;
  std::vector<float> scales_;
};

}  // namespace latentbus::bridge

#endif  // LATENTBUS_BRIDGE_INT8_MATRIX_H_
