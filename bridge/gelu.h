// The adapter's GELU for the int8 path (int8_bridge.h) in a form a loop vectorizes: libm's
// expf and tanhf are calls per value, which took a fifth of an int8 adapter translation.
#ifndef LATENTBUS_BRIDGE_GELU_H_
#define LATENTBUS_BRIDGE_GELU_H_

#include <cstdint>
#include <cstring>

namespace latentbus::bridge {

// e^t for t in [-87, 88] (clamped there; NaN counts as -87), to about 2e-7 relative: e^t = 2^n e^r
// with n the integer nearest t / ln 2 and |r| <= ln 2 / 2, e^r by its Taylor series to r^6. Plain
// float and integer arithmetic, so a loop over it vectorizes (libm's expf and tanhf do not).
inline float VectorizableExp(float t) {
  t = t >= -87.0f ? t : -87.0f;
  t = t <= 88.0f ? t : 88.0f;
  constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  const float n = (t * 1.44269504f + kMagic) - kMagic;
  const float r = (t - n * 0.693145752f) - n * 1.42860677e-6f;  // ln 2 in two parts
  float p = 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const uint32_t bits = static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23;  // 2^n
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

// torch's gelu(x, "tanh"), 0.5 x (1 + tanh(u)) with u = sqrt(2 / pi) (x + 0.044715 x^3),
// written as x / (1 + e^(-2u)), the same function.
inline float GeluTanh(float x) {
  constexpr float kTwoSqrt2OverPi = 2 * 0.7978845608028654f;
  return x / (1.0f + VectorizableExp(-kTwoSqrt2OverPi * (x + 0.044715f * x * x * x)));
}

}  // namespace latentbus::bridge

#endif  // LATENTBUS_BRIDGE_GELU_H_
