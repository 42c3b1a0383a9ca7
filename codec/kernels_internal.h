// Pieces shared by the scalar and AVX2 kernels (not part of the codec's API).
#ifndef LATENTBUS_CODEC_KERNELS_INTERNAL_H_
#define LATENTBUS_CODEC_KERNELS_INTERNAL_H_

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

#include "codec/half.h"

namespace latentbus::codec::internal {

// The reciprocal multiplier and the stored scale for a group whose largest |x| has
// bits `max_abs_bits` (finite). Both are fp32 divisions, as the contract requires.
inline void GroupScale(uint32_t max_abs_bits, int qmax, float* scale, float* inv) {
  const float absmax = BitsToFloat(max_abs_bits);
  *scale = absmax / static_cast<float>(qmax);
  // Below about qmax / FLT_MAX the multiplier overflows; such a group quantizes to zeros.
  const float q_over_max = absmax > 0.0f ? static_cast<float>(qmax) / absmax : 0.0f;
  *inv = q_over_max <= std::numeric_limits<float>::max() ? q_over_max : 0.0f;
}

// Quantizes one group: computes its scale and calls emit(i, q) for every element.
// Returns false on a non-finite input or |x| >= 2^120.
template <typename Emit>
bool QuantizeGroupScalar(const float* x, size_t len, int qmax, float* scale, Emit emit) {
  uint32_t max_abs = 0;
  for (size_t i = 0; i < len; ++i) max_abs = std::max(max_abs, AbsBits(x[i]));
  if (max_abs >= kQuantLimitAbsBits) return false;
  float inv;
  GroupScale(max_abs, qmax, scale, &inv);
  for (size_t i = 0; i < len; ++i) {
    // nearbyint rounds half to even in the default rounding mode, like vcvtps2dq.
    const float r = std::nearbyint(x[i] * inv);
    const int v =
        static_cast<int>(std::clamp(r, static_cast<float>(-qmax), static_cast<float>(qmax)));
    emit(i, v);
  }
  return true;
}

}  // namespace latentbus::codec::internal

#endif  // LATENTBUS_CODEC_KERNELS_INTERNAL_H_
