// Int8 matrix products for the bridges' translation: Y = X W with X rounded to int8 per row
// and W to int8 per column, every dot product an exact integer sum over the whole input
// width, scaled once. The weights are prepared once when a bridge loads (int8_matrix.h);
// the variants and the run-time choice among them are below.
//
//   out[i][j] = base + float(sum_k xq[i][k] * wq[k][j]) * (xscale[i] * wscale[j])
//
// with base = out[i][j] (accumulate), bias[j], or 0; the product and the sum are two
// roundings, never fused. Every variant computes the integer sums exactly and the rest
// with the same float operations in the same order, so all variants agree bit for bit:
//
//   scalar      portable C++, the reference
//   avx2        AVX2: |x| times w with x's sign (vpsignb, vpmaddubsw, vpmaddwd)
//   avx2vnni    AVX2 with AVX-VNNI's vpdpbusd (Alder Lake and later client CPUs)
//   avx512      AVX-512 F/BW/DQ/VL, as avx2 on 16 columns a register
//   avx512vnni  AVX-512 with VNNI's vpdpbusd (Ice Lake, Sapphire Rapids, AMD Zen 4)
//
// vpdpbusd multiplies unsigned by signed bytes, so the VNNI variants take the activations
// offset by 128 (Int8MatmulKernels::offset_activations) and subtract 128 * the column's sum
// of weights. Bounds: |x| and |w| <= 127, so no pair sum saturates int16 (the avx2 path) and
// k <= 65536 keeps every int32 sum, offset included, in range.
//
// Freestanding (no library calls, no allocation): the emulated self-test
// (int8_matmul_selftest.cc) runs every variant on emulated CPUs. Each vector variant's file
// alone is compiled with its instructions and is reached only through the choice below.
#ifndef LATENTBUS_BRIDGE_INT8_MATMUL_H_
#define LATENTBUS_BRIDGE_INT8_MATMUL_H_

#include <cstddef>
#include <cstdint>

#include "codec/cpu_features.h"

namespace latentbus::bridge {

// Columns per tile of the packed weights.
inline constexpr size_t kInt8Tile = 16;
// The largest input width (k) the products accept.
inline constexpr size_t kInt8MaxDepth = 65536;

// A [k, n] matrix as the kernels read it (borrowed; int8_matrix.h owns one).
struct Int8MatrixView {
  size_t k = 0;  // input width, a multiple of 4, at most kInt8MaxDepth
  size_t n = 0;  // output width
  // ceil(n / 16) tiles of k / 4 steps of 64 bytes: step s of tile t holds, for its 16
  // columns c in order, rows 4s..4s+3 of column 16t + c. Columns past n are zero.
  const int8_t* q = nullptr;
  const float* scales = nullptr;         // n: column j ~ scales[j] * q
  const int32_t* offset_sums = nullptr;  // n: 128 * the sum of column j's q
};

// Where Int8MatrixView::q holds the value at (row, column) of a matrix of (padded) depth k.
// It is the sum of a column's part and a row's part: Index(k, r, j) = Index(k, 0, j) +
// Index(k, r, 0).
inline size_t Int8PackedIndex(size_t k, size_t row, size_t column) {
  return ((column / kInt8Tile) * (k / 4) + row / 4) * 64 + (column % kInt8Tile) * 4 + row % 4;
}

// Rows of activations rounded to int8: row i is q[i * k, (i + 1) * k), ~ scales[i] * q,
// q in [-127, 127]; with offset_activations the bytes are q + 128.
struct Int8RowsView {
  size_t rows = 0;
  size_t k = 0;
  const uint8_t* q = nullptr;
  const float* scales = nullptr;
};

struct Int8MatmulKernels {
  const char* name;         // "scalar", "avx2", "avx2vnni", "avx512", "avx512vnni"
  bool offset_activations;  // wants Int8RowsView bytes as q + 128
  // out[i * out_stride + j] for i < x.rows, j < w.n, as at the top of this file; `bias`
  // may be null (0), and is ignored when `accumulate`. x.k == w.k.
  void (*matmul)(const Int8MatrixView& w, const Int8RowsView& x, const float* bias, bool accumulate,
                 float* out, size_t out_stride);
  // Rounds rows of floats for `matmul` (Int8Rows::Quantize, int8_matrix.h, says how): q gets
  // k bytes a row (columns [cols, k) untouched), scales one float a row.
  void (*quantize_rows)(const float* x, size_t rows, size_t cols, size_t k, uint8_t* q,
                        float* scales);
};

const Int8MatmulKernels& ScalarInt8MatmulKernels();
// Each null when the build targets another architecture; they do not check the CPU.
const Int8MatmulKernels* Avx2Int8MatmulKernelsIfBuilt();
const Int8MatmulKernels* Avx2VnniInt8MatmulKernelsIfBuilt();
const Int8MatmulKernels* Avx512Int8MatmulKernelsIfBuilt();
const Int8MatmulKernels* Avx512VnniInt8MatmulKernelsIfBuilt();

// The variant `cpu` runs, by name, or null when it cannot (or none is built by that name).
const Int8MatmulKernels* Int8MatmulKernelsNamed(const char* name, const codec::CpuFeatures& cpu);

// The fastest variant `cpu` runs.
const Int8MatmulKernels& BestInt8MatmulKernels(const codec::CpuFeatures& cpu);

}  // namespace latentbus::bridge

#endif  // LATENTBUS_BRIDGE_INT8_MATMUL_H_
