// Scalar conversions between binary32 and the 16-bit float formats.
//
// Both round to nearest, ties to even, exactly as x86 F16C (vcvtps2ph with
// _MM_FROUND_TO_NEAREST_INT) and the usual bf16 truncation-with-rounding do, so the
// scalar and vector kernels produce identical bytes.
#ifndef LATENTBUS_CODEC_HALF_H_
#define LATENTBUS_CODEC_HALF_H_

#include <cstdint>
#include <cstring>

namespace latentbus::codec {

inline uint32_t FloatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  return u;
}

inline float BitsToFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof(f));
  return f;
}

// |x| as raw bits: for finite values the integer order equals the order of |x|, and
// every non-finite value compares >= kNonFiniteAbsBits.
inline uint32_t AbsBits(float f) { return FloatBits(f) & 0x7fffffffu; }
inline constexpr uint32_t kNonFiniteAbsBits = 0x7f800000u;
// Quantization refuses |x| >= 2^120, so that every scale stays <= 2^120 and any
// decoded q * scale (|q| <= 128) is finite.
inline constexpr uint32_t kQuantLimitAbsBits = 0x7b800000u;  // 2^120
// Smallest |x| that rounds to infinity in fp16 (65520) and in bf16.
inline constexpr uint32_t kFp16OverflowAbsBits = 0x477ff000u;
inline constexpr uint32_t kBf16OverflowAbsBits = 0x7f7f8000u;

// Finite |f| < 65520 (callers check); subnormal results are rounded correctly.
uint16_t FloatToHalf(float f);
float HalfToFloat(uint16_t h);

// Finite |f| below kBf16OverflowAbsBits (callers check).
inline uint16_t FloatToBf16(float f) {
  const uint32_t u = FloatBits(f);
  return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
inline float Bf16ToFloat(uint16_t h) { return BitsToFloat(static_cast<uint32_t>(h) << 16); }

inline bool HalfIsFinite(uint16_t h) { return (h & 0x7c00u) != 0x7c00u; }
inline bool Bf16IsFinite(uint16_t h) { return (h & 0x7f80u) != 0x7f80u; }

}  // namespace latentbus::codec

#endif  // LATENTBUS_CODEC_HALF_H_
