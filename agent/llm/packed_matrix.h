// A weight matrix kept quantized in memory, in one of four layouts of our own that the
// GGUF block types and 16-bit float tensors the runtime meets repack into exactly (the same
// float for every element as gguf::Dequantize or the safetensors reader gives):
//
//   kInt8  value = scale[g] * q            q int8, a scale per group of 32 (16 for Q6_K)
//          from Q8_0 (q), Q5_0 (q - 16), Q6_K (q - 32, scale d * sub-block scale)
//   kInt4  value = scale[g] * q + min[g]   q 0..15, a scale and a min per group of 32
//          from Q4_1 (d, m), Q4_K (d * scale, -dmin * min)
//   kF16   IEEE half values as stored      from GGUF F16 and safetensors F16 tensors
//   kBF16  bfloat16 values as stored       from GGUF BF16 and safetensors BF16 tensors
//
// Rows are the output features, columns the input features (a [rows, cols] matrix that
// multiplies column vectors, like torch's linear weights). In kInt4, byte j of a group's
// 16 bytes holds element j in its low nibble and element j + 16 in its high nibble.
// Memory: 1 + 4/group bytes an element (kInt8), 0.5 + 8/32 (kInt4), 2 (kF16, kBF16).
//
// Kernels (packed_kernels.h) multiply it with float activations without unpacking it.
// Thread safety: immutable after FromGguf; const methods are safe concurrently.
#ifndef LATENTBUS_AGENT_LLM_PACKED_MATRIX_H_
#define LATENTBUS_AGENT_LLM_PACKED_MATRIX_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/gguf/ggml_type.h"
#include "agent/llm/packed_view.h"

namespace latentbus::agent::llm {

class PackedMatrix {
 public:
  using Layout = PackedLayout;

  // True when `type` repacks exactly (Q8_0, Q5_0, Q6_K, Q4_1, Q4_K, F16, BF16).
  static bool CanPack(gguf::GgmlType type);
  // Repacks `rows` rows of `cols` elements of GGUF blocks at `data` (row-major, a row a
  // whole number of blocks). InvalidArgument for a type CanPack rejects or a partial block.
  static absl::StatusOr<PackedMatrix> FromGguf(gguf::GgmlType type, const uint8_t* data,
                                               size_t rows, size_t cols);
  // True when rows of `cols` 16-bit floats pack (a whole number of 32-column blocks: the
  // kernels' vector width).
  static bool CanPackHalf(size_t cols) { return cols != 0 && cols % 32 == 0; }
  // Copies `rows` x `cols` 16-bit floats (`layout` kF16 or kBF16; little-endian, row-major)
  // from `data` (any alignment). InvalidArgument unless CanPackHalf(cols).
  static absl::StatusOr<PackedMatrix> FromHalf(PackedLayout layout, const uint8_t* data,
                                               size_t rows, size_t cols);

  Layout layout() const { return layout_; }
  size_t rows() const { return rows_; }
  size_t cols() const { return cols_; }
  size_t group() const { return group_; }
  size_t groups_per_row() const { return cols_ / group_; }
  // Resident bytes of the values, scales and mins.
  size_t bytes() const;

  // kInt8: rows * cols values; kInt4: rows * cols / 2 bytes.
  const int8_t* q8() const { return q8_.data(); }
  const uint8_t* q4() const { return q4_.data(); }
  const float* scales() const { return scales_.data(); }  // rows * groups_per_row
  const float* mins() const { return mins_.data(); }      // kInt4 only
  const uint16_t* h16() const { return h16_.data(); }     // kF16, kBF16 only

  // What the kernels take (packed_kernel_variants.h); valid while this matrix lives.
  PackedView view() const;

  // Rows [begin, end) as floats into `out` ((end - begin) * cols), exactly the values
  // (the scalar kernels' dequantization).
  void DequantizeRows(size_t begin, size_t end, float* out) const;

 private:
  Layout layout_ = Layout::kInt8;
  size_t rows_ = 0, cols_ = 0, group_ = 32;
  std::vector<int8_t> q8_;
  std::vector<uint8_t> q4_;
  std::vector<float> scales_, mins_;
  std::vector<uint16_t> h16_;
};

}  // namespace latentbus::agent::llm

#endif  // LATENTBUS_AGENT_LLM_PACKED_MATRIX_H_
