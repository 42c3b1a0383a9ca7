#include <algorithm>
#include <cmath>

#include "codec/half.h"
#include "codec/kernels.h"
#include "codec/kernels_internal.h"
#include "codec/rotation_kernels.h"

namespace latentbus::codec {
namespace {

bool QuantizeInt8(const float* x, size_t n, size_t group, float* scales, int8_t* q) {
  for (size_t start = 0, g = 0; start < n; start += group, ++g) {
    const size_t len = std::min(group, n - start);
    if (!internal::QuantizeGroupScalar(x + start, len, 127, &scales[g], [&](size_t i, int v) {
          q[start + i] = static_cast<int8_t>(v);
        })) {
      return false;
    }
  }
  return true;
}

bool QuantizeInt4(const float* x, size_t n, size_t group, float* scales, uint8_t* packed) {
  // group is even, so every group starts on a byte boundary.
  for (size_t start = 0, g = 0; start < n; start += group, ++g) {
    const size_t len = std::min(group, n - start);
    uint8_t* out = packed + start / 2;
    if (!internal::QuantizeGroupScalar(x + start, len, 7, &scales[g], [&](size_t i, int v) {
          const uint8_t nib = static_cast<uint8_t>(v + 8);
          if (i % 2 == 0) {
            out[i / 2] = nib;
          } else {
            out[i / 2] = static_cast<uint8_t>(out[i / 2] | (nib << 4));
          }
        })) {
      return false;
    }
  }
  return true;
}

void DequantizeInt8(const int8_t* q, const float* scales, size_t n, size_t group, float* out) {
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(q[i]) * scales[i / group];
}

void DequantizeInt4(const uint8_t* packed, const float* scales, size_t n, size_t group,
                    float* out) {
  for (size_t i = 0; i < n; ++i) {
    const int nib = (i % 2 == 0) ? (packed[i / 2] & 0x0f) : (packed[i / 2] >> 4);
    out[i] = static_cast<float>(nib - 8) * scales[i / group];
  }
}

bool FloatToFp16(const float* x, size_t n, uint16_t* out) {
  for (size_t i = 0; i < n; ++i) {
    if (AbsBits(x[i]) >= kFp16OverflowAbsBits) return false;
    out[i] = FloatToHalf(x[i]);
  }
  return true;
}

bool Fp16ToFloat(const uint16_t* in, size_t n, float* out) {
  for (size_t i = 0; i < n; ++i) {
    if (!HalfIsFinite(in[i])) return false;
    out[i] = HalfToFloat(in[i]);
  }
  return true;
}

bool FloatToBf16(const float* x, size_t n, uint16_t* out) {
  for (size_t i = 0; i < n; ++i) {
    if (AbsBits(x[i]) >= kBf16OverflowAbsBits) return false;
    out[i] = codec::FloatToBf16(x[i]);
  }
  return true;
}

bool Bf16ToFloat(const uint16_t* in, size_t n, float* out) {
  for (size_t i = 0; i < n; ++i) {
    if (!Bf16IsFinite(in[i])) return false;
    out[i] = codec::Bf16ToFloat(in[i]);
  }
  return true;
}

bool CopyFinite(const float* in, size_t n, float* out) {
  uint32_t max_abs = 0;
  for (size_t i = 0; i < n; ++i) {
    max_abs = std::max(max_abs, AbsBits(in[i]));
    out[i] = in[i];
  }
  return max_abs < kNonFiniteAbsBits;
}

bool AllFinite(const float* x, size_t n) {
  uint32_t max_abs = 0;
  for (size_t i = 0; i < n; ++i) max_abs = std::max(max_abs, AbsBits(x[i]));
  return max_abs < kNonFiniteAbsBits;
}

}  // namespace

const Kernels& ScalarKernels() {
  using internal::RotateRowsScalar;
  static const Kernels kernels = {
      "scalar",    QuantizeInt8, QuantizeInt4, DequantizeInt8, DequantizeInt4, FloatToFp16,
      Fp16ToFloat, FloatToBf16,  Bf16ToFloat,  CopyFinite,     AllFinite,      RotateRowsScalar,
  };
  return kernels;
}

}  // namespace latentbus::codec
