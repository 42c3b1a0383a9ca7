// ggml tensor element types and their block layouts, and dequantization to float.
//
// Every quantized type stores a row as consecutive blocks of `BlockElements(type)`
// elements in `BlockBytes(type)` bytes; each block's layout is documented next to its
// dequantizer in ggml_type.cc. Numeric values match the GGUF file format.
#ifndef LATENTBUS_AGENT_GGUF_GGML_TYPE_H_
#define LATENTBUS_AGENT_GGUF_GGML_TYPE_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"

namespace latentbus::agent::gguf {

enum class GgmlType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kBF16 = 30,
};

// False for values this build cannot dequantize (Q8_1, Q8_K and any number not in
// GgmlType).
bool IsSupported(uint32_t type);
const char* TypeName(GgmlType type);  // "unknown" for a number not in GgmlType
// Both 0 for a type IsSupported rejects.
size_t BlockElements(GgmlType type);  // 1 for F32/F16/BF16
size_t BlockBytes(GgmlType type);

// Bytes for `n` elements (n must be a multiple of BlockElements; callers check).
size_t RowBytes(GgmlType type, size_t n);

// The 12-byte scale field of a Q4_K / Q5_K super-block at `b`: the 6-bit scales and
// mins of its eight sub-blocks of 32 (layout in ggml_type.cc).
void UnpackKScaleMin(const uint8_t* b, int* scale, int* min);

// Dequantizes `n` elements (a multiple of BlockElements(type)) from `src` to `dst`.
// InvalidArgument for an unsupported type or a partial block. Thread-safe.
absl::Status Dequantize(GgmlType type, const void* src, size_t n, float* dst);

}  // namespace latentbus::agent::gguf

#endif  // LATENTBUS_AGENT_GGUF_GGML_TYPE_H_
