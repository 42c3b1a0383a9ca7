// What the packed kernels see of a PackedMatrix: its layout, shape and the addresses of
// its values, scales and mins (packed_matrix.h describes the layouts). A plain struct
// with no library types, so that the kernels compile freestanding too (the emulated
// self-test, packed_kernels_selftest.cc). Borrowed: valid while the matrix lives.
#ifndef LATENTBUS_AGENT_LLM_PACKED_VIEW_H_
#define LATENTBUS_AGENT_LLM_PACKED_VIEW_H_

#include <cstddef>
#include <cstdint>

namespace latentbus::agent::llm {

enum class PackedLayout { kInt8, kInt4, kF16, kBF16 };

// kF16 / kBF16: 16-bit floats, as stored (no scales).
inline bool IsHalfLayout(PackedLayout layout) {
  return layout == PackedLayout::kF16 || layout == PackedLayout::kBF16;
}

struct PackedView {
  PackedLayout layout = PackedLayout::kInt8;
  size_t rows = 0, cols = 0;
  size_t group = 32;              // 32, or 16 for kInt8 from Q6_K
  const int8_t* q8 = nullptr;     // kInt8: rows * cols values
  const uint8_t* q4 = nullptr;    // kInt4: rows * cols / 2 bytes
  const float* scales = nullptr;  // rows * groups_per_row()
  const float* mins = nullptr;    // kInt4: rows * groups_per_row()
  const uint16_t* h16 = nullptr;  // kF16, kBF16: rows * cols values (IEEE half or bfloat16)

  size_t groups_per_row() const { return cols / group; }
};

}  // namespace latentbus::agent::llm

#endif  // LATENTBUS_AGENT_LLM_PACKED_VIEW_H_
