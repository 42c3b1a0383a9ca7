// What the packed kernels see of a PackedMatrix: its layout, shape and the addresses of
// its values, scales and mins (packed_matrix.h describes the layouts). A plain struct
// with no library types, so that the kernels compile freestanding too (the emulated
// self-test, packed_kernels_selftest.cc). Borrowed: valid while the matrix lives.
#ifndef LATENTBUS_AGENT_LLM_PACKED_VIEW_H_
#define LATENTBUS_AGENT_LLM_PACKED_VIEW_H_

#include <cstddef>
#include <cstdint>

namespace latentbus::agent::llm {

enum class PackedLayout { kInt8, kInt4 };

struct PackedView {
  PackedLayout layout = PackedLayout::kInt8;
  size_t rows = 0, cols = 0;
  size_t group = 32;              // 32, or 16 for kInt8 from Q6_K
  const int8_t* q8 = nullptr;     // kInt8: rows * cols values
  const uint8_t* q4 = nullptr;    // kInt4: rows * cols / 2 bytes
  const float* scales = nullptr;  // rows * groups_per_row()
  const float* mins = nullptr;    // kInt4: rows * groups_per_row()

  size_t groups_per_row() const { return cols / group; }
};

}  // namespace latentbus::agent::llm

#endif  // LATENTBUS_AGENT_LLM_PACKED_VIEW_H_
