#include "agent/gguf/ggml_type.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace latentbus::agent::gguf {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "ggml blocks are little-endian; big-endian hosts need byte swaps");

// Every value below is computed in the same float operations, in the same order, as
// ggml's reference dequantizers (and the gguf Python package): a block scale times a
// sub-block scale first, then times the quant, then the minimum subtracted or added.
// The library is compiled with -ffp-contract=off so that no compiler fuses a multiply
// and an add into an FMA, which would round differently; results are bit-identical to
// the reference.

constexpr size_t kQK = 32;    // elements per block of the "legacy" quants
constexpr size_t kQKK = 256;  // elements per super-block of the k-quants

struct TypeTraits {
  GgmlType type;
  const char* name;
  size_t block_elements;  // 0 when this build cannot dequantize the type
  size_t block_bytes;
};

constexpr TypeTraits kTypes[] = {
    {GgmlType::kF32, "F32", 1, 4},
    {GgmlType::kF16, "F16", 1, 2},
    {GgmlType::kQ4_0, "Q4_0", kQK, 18},
    {GgmlType::kQ4_1, "Q4_1", kQK, 20},
    {GgmlType::kQ5_0, "Q5_0", kQK, 22},
    {GgmlType::kQ5_1, "Q5_1", kQK, 24},
    {GgmlType::kQ8_0, "Q8_0", kQK, 34},
    {GgmlType::kQ8_1, "Q8_1", 0, 0},  // dot-product intermediate, never stored in models
    {GgmlType::kQ2_K, "Q2_K", kQKK, 84},
    {GgmlType::kQ3_K, "Q3_K", kQKK, 110},
    {GgmlType::kQ4_K, "Q4_K", kQKK, 144},
    {GgmlType::kQ5_K, "Q5_K", kQKK, 176},
    {GgmlType::kQ6_K, "Q6_K", kQKK, 210},
    {GgmlType::kQ8_K, "Q8_K", 0, 0},  // dot-product intermediate, never stored in models
    {GgmlType::kBF16, "BF16", 1, 2},
};

const TypeTraits* Find(uint32_t type) {
  for (const TypeTraits& t : kTypes) {
    if (static_cast<uint32_t>(t.type) == type) return &t;
  }
  return nullptr;
}

inline float BitsToFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof(f));
  return f;
}

inline uint16_t LoadU16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

inline uint32_t LoadU32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// IEEE binary16 -> binary32, exact for every input (NaN payloads are kept).
inline float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu;
  const uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0x1f) return BitsToFloat(sign | 0x7f800000u | (mantissa << 13));
  if (exponent != 0) return BitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
  // Zero or subnormal: mantissa * 2^-24, exact in binary32.
  const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
  return sign != 0 ? -magnitude : magnitude;
}

inline float LoadHalf(const uint8_t* p) { return HalfToFloat(LoadU16(p)); }

// ---- Plain floats -----------------------------------------------------------------

// F32: 4 bytes per element, IEEE binary32.
void DequantizeF32(const uint8_t* src, size_t n, float* dst) {
  std::memcpy(dst, src, n * sizeof(float));
}

// F16: 2 bytes per element, IEEE binary16.
void DequantizeF16(const uint8_t* src, size_t n, float* dst) {
  for (size_t i = 0; i < n; ++i) dst[i] = LoadHalf(src + 2 * i);
}

// BF16: 2 bytes per element, the upper half of a binary32.
void DequantizeBf16(const uint8_t* src, size_t n, float* dst) {
  for (size_t i = 0; i < n; ++i)
    dst[i] = BitsToFloat(static_cast<uint32_t>(LoadU16(src + 2 * i)) << 16);
}

// ---- 32-element blocks --------------------------------------------------------------
// In every 4-bit and 5-bit legacy block, byte j of `qs` holds element j in its low
// nibble and element j + 16 in its high nibble.

// Q4_0, 18 bytes: [0,2) d (f16) | [2,18) qs[16] (4-bit q, nibbles as above).
// x = d * (q - 8).
void DequantizeQ4_0(const uint8_t* src, size_t blocks, float* dst) {
  for (size_t b = 0; b < blocks; ++b, src += 18, dst += kQK) {
    const float d = LoadHalf(src);
    const uint8_t* qs = src + 2;
    for (size_t j = 0; j < 16; ++j) {
      dst[j] = d * static_cast<float>((qs[j] & 0x0f) - 8);
      dst[j + 16] = d * static_cast<float>((qs[j] >> 4) - 8);
    }
  }
}

// Q4_1, 20 bytes: [0,2) d (f16) | [2,4) m (f16) | [4,20) qs[16].
// x = d * q + m.
void DequantizeQ4_1(const uint8_t* src, size_t blocks, float* dst) {
  for (size_t b = 0; b < blocks; ++b, src += 20, dst += kQK) {
    const float d = LoadHalf(src);
    const float m = LoadHalf(src + 2);
    const uint8_t* qs = src + 4;
    for (size_t j = 0; j < 16; ++j) {
      dst[j] = d * static_cast<float>(qs[j] & 0x0f) + m;
      dst[j + 16] = d * static_cast<float>(qs[j] >> 4) + m;
    }
  }
}

// Q5_0, 22 bytes: [0,2) d (f16) | [2,6) qh (u32, bit j = bit 4 of element j) |
// [6,22) qs[16] (low 4 bits, nibbles as above). x = d * (q - 16).
void DequantizeQ5_0(const uint8_t* src, size_t blocks, float* dst) {
  for (size_t b = 0; b < blocks; ++b, src += 22, dst += kQK) {
    const float d = LoadHalf(src);
    const uint32_t qh = LoadU32(src + 2);
    const uint8_t* qs = src + 6;
    for (size_t j = 0; j < 16; ++j) {
      const int lo = (qs[j] & 0x0f) | static_cast<int>(((qh >> j) & 1u) << 4);
      const int hi = (qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
      dst[j] = d * static_cast<float>(lo - 16);
      dst[j + 16] = d * static_cast<float>(hi - 16);
    }
  }
}

// Q5_1, 24 bytes: [0,2) d (f16) | [2,4) m (f16) | [4,8) qh (u32) | [8,24) qs[16].
// x = d * q + m.
void DequantizeQ5_1(const uint8_t* src, size_t blocks, float* dst) {
  for (size_t b = 0; b < blocks; ++b, src += 24, dst += kQK) {
    const float d = LoadHalf(src);
    const float m = LoadHalf(src + 2);
    const uint32_t qh = LoadU32(src + 4);
    const uint8_t* qs = src + 8;
    for (size_t j = 0; j < 16; ++j) {
      const int lo = (qs[j] & 0x0f) | static_cast<int>(((qh >> j) & 1u) << 4);
      const int hi = (qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
      dst[j] = d * static_cast<float>(lo) + m;
      dst[j + 16] = d * static_cast<float>(hi) + m;
    }
  }
}

// Q8_0, 34 bytes: [0,2) d (f16) | [2,34) qs[32] (int8, element j in byte j).
// x = d * q.
void DequantizeQ8_0(const uint8_t* src, size_t blocks, float* dst) {
  for (size_t b = 0; b < blocks; ++b, src += 34, dst += kQK) {
    const float d = LoadHalf(src);
    const int8_t* qs = reinterpret_cast<const int8_t*>(src + 2);
    for (size_t j = 0; j < kQK; ++j) dst[j] = d * static_cast<float>(qs[j]);
  }
}

// ---- 256-element super-blocks (k-quants) ---------------------------------------------

// Q2_K, 84 bytes: [0,16) scales[16] (sub-block s of 16 elements: low nibble = scale,
// high nibble = min) | [16,80) qs[64] (2-bit q) | [80,82) d (f16) | [82,84) dmin (f16).
// Elements come in two halves of 128: element 128*h + 32*k + l (k < 4, l < 32) is bits
// [2k, 2k+2) of qs[32*h + l]. x = (d * scale) * q - (dmin * min).
void DequantizeQ2_K(const uint8_t* src, size_t blocks, float* dst) {
  for (size_t b = 0; b < blocks; ++b, src += 84) {
    const uint8_t* scales = src;
    const float d = LoadHalf(src + 80);
    const float dmin = LoadHalf(src + 82);
    for (size_t h = 0; h < 2; ++h) {
      const uint8_t* qs = src + 16 + 32 * h;
      for (int k = 0; k < 4; ++k) {
        for (size_t half = 0; half < 2; ++half, ++scales, dst += 16) {
          const float dl = d * static_cast<float>(*scales & 0x0f);
          const float ml = dmin * static_cast<float>(*scales >> 4);
          for (size_t l = 0; l < 16; ++l) {
            dst[l] = dl * static_cast<float>((qs[16 * half + l] >> (2 * k)) & 3) - ml;
          }
        }
      }
    }
  }
}

// Q3_K, 110 bytes: [0,32) hmask[32] | [32,96) qs[64] (low 2 bits) | [96,108) scales
// (sixteen 6-bit values) | [108,110) d (f16).
// Scale s (< 16): low 4 bits are nibble s / 8 of byte s % 8; high 2 bits are bits
// [2 * (s / 4), 2 * (s / 4) + 2) of byte 8 + s % 4; the 6-bit value is offset by -32.
// Element 128*h + 32*k + l: low 2 bits = bits [2k, 2k+2) of qs[32*h + l]; its hmask
// bit is bit (4h + k) of hmask[l]; a clear hmask bit subtracts 4 (q in [-4, 3]).
// x = (d * (scale - 32)) * q, scale chosen by sub-block (element / 16).
void DequantizeQ3_K(const uint8_t* src, size_t blocks, float* dst) {
  for (size_t b = 0; b < blocks; ++b, src += 110) {
    const uint8_t* hmask = src;
    const uint8_t* sc = src + 96;
    const float d = LoadHalf(src + 108);
    int scale[16];
    for (int s = 0; s < 16; ++s) {
      const int low = (sc[s % 8] >> (4 * (s / 8))) & 0x0f;
      const int high = (sc[8 + s % 4] >> (2 * (s / 4))) & 0x03;
      scale[s] = (low | (high << 4)) - 32;
    }
    int s = 0;
    for (int h = 0; h < 2; ++h) {
      const uint8_t* qs = src + 32 + 32 * h;
      for (int k = 0; k < 4; ++k) {
        const int bit = 4 * h + k;
        for (size_t half = 0; half < 2; ++half, ++s, dst += 16) {
          const float dl = d * static_cast<float>(scale[s]);
          for (size_t l = 0; l < 16; ++l) {
            const size_t i = 16 * half + l;
            const int q = ((qs[i] >> (2 * k)) & 3) - (((hmask[i] >> bit) & 1) != 0 ? 0 : 4);
            dst[l] = dl * static_cast<float>(q);
          }
        }
      }
    }
  }
}

// Q4_K, 144 bytes: [0,2) d (f16) | [2,4) dmin (f16) | [4,16) scales (UnpackKScaleMin) |
// [16,144) qs[128]. Element 64*c + l (l < 32) is the low nibble of qs[32*c + l] and
// element 64*c + 32 + l its high nibble (sub-blocks 2c and 2c + 1).
// x = (d * scale) * q - (dmin * min).
void DequantizeQ4_K(const uint8_t* src, size_t blocks, float* dst) {
  for (size_t b = 0; b < blocks; ++b, src += 144) {
    const float d = LoadHalf(src);
    const float dmin = LoadHalf(src + 2);
    int scale[8];
    int min[8];
    UnpackKScaleMin(src + 4, scale, min);
    const uint8_t* qs = src + 16;
    for (int c = 0; c < 4; ++c, qs += 32, dst += 64) {
      const float d1 = d * static_cast<float>(scale[2 * c]);
      const float m1 = dmin * static_cast<float>(min[2 * c]);
      const float d2 = d * static_cast<float>(scale[2 * c + 1]);
      const float m2 = dmin * static_cast<float>(min[2 * c + 1]);
      for (size_t l = 0; l < 32; ++l) dst[l] = d1 * static_cast<float>(qs[l] & 0x0f) - m1;
      for (size_t l = 0; l < 32; ++l) dst[32 + l] = d2 * static_cast<float>(qs[l] >> 4) - m2;
    }
  }
}

// Q5_K, 176 bytes: [0,2) d (f16) | [2,4) dmin (f16) | [4,16) scales (UnpackKScaleMin) |
// [16,48) qh[32] | [48,176) qs[128]. Low 4 bits as in Q4_K; bit 4 of element 32*s + l
// (sub-block s < 8) is bit s of qh[l]. x = (d * scale) * q - (dmin * min).
void DequantizeQ5_K(const uint8_t* src, size_t blocks, float* dst) {
  for (size_t b = 0; b < blocks; ++b, src += 176) {
    const float d = LoadHalf(src);
    const float dmin = LoadHalf(src + 2);
    int scale[8];
    int min[8];
    UnpackKScaleMin(src + 4, scale, min);
    const uint8_t* qh = src + 16;
    const uint8_t* qs = src + 48;
    for (int c = 0; c < 4; ++c, qs += 32, dst += 64) {
      const int s1 = 2 * c;
      const int s2 = 2 * c + 1;
      const float d1 = d * static_cast<float>(scale[s1]);
      const float m1 = dmin * static_cast<float>(min[s1]);
      const float d2 = d * static_cast<float>(scale[s2]);
      const float m2 = dmin * static_cast<float>(min[s2]);
      for (size_t l = 0; l < 32; ++l) {
        const int q = (qs[l] & 0x0f) | (((qh[l] >> s1) & 1) << 4);
        dst[l] = d1 * static_cast<float>(q) - m1;
      }
      for (size_t l = 0; l < 32; ++l) {
        const int q = (qs[l] >> 4) | (((qh[l] >> s2) & 1) << 4);
        dst[32 + l] = d2 * static_cast<float>(q) - m2;
      }
    }
  }
}

// Q6_K, 210 bytes: [0,128) ql[128] (low 4 bits) | [128,192) qh[64] (high 2 bits) |
// [192,208) scales[16] (int8, one per 16 elements) | [208,210) d (f16).
// In half h (128 elements), for l < 32: element 128h + l takes the low nibble of
// ql[64h + l], 128h + 32 + l the low nibble of ql[64h + 32 + l], 128h + 64 + l the high
// nibble of ql[64h + l], 128h + 96 + l the high nibble of ql[64h + 32 + l]; their high
// bits are bits [0,2), [2,4), [4,6), [6,8) of qh[32h + l]. x = (d * scale) * (q - 32).
void DequantizeQ6_K(const uint8_t* src, size_t blocks, float* dst) {
  for (size_t b = 0; b < blocks; ++b, src += 210) {
    const int8_t* scales = reinterpret_cast<const int8_t*>(src + 192);
    const float d = LoadHalf(src + 208);
    for (int h = 0; h < 2; ++h, dst += 128) {
      const uint8_t* ql = src + 64 * h;
      const uint8_t* qh = src + 128 + 32 * h;
      const int8_t* sc = scales + 8 * h;
      for (size_t l = 0; l < 32; ++l) {
        const size_t is = l / 16;
        const int q1 = ((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        dst[l] = (d * static_cast<float>(sc[is + 0])) * static_cast<float>(q1);
        dst[l + 32] = (d * static_cast<float>(sc[is + 2])) * static_cast<float>(q2);
        dst[l + 64] = (d * static_cast<float>(sc[is + 4])) * static_cast<float>(q3);
        dst[l + 96] = (d * static_cast<float>(sc[is + 6])) * static_cast<float>(q4);
      }
    }
  }
}

}  // namespace

// The 12-byte scale field shared by Q4_K and Q5_K: eight 6-bit scales and eight 6-bit
// mins for sub-blocks of 32 elements. For j < 4: scale[j] = b[j] & 63, min[j] =
// b[j+4] & 63; scale[j+4] = (b[j+8] & 15) | ((b[j] >> 6) << 4), min[j+4] = (b[j+8] >> 4)
// | ((b[j+4] >> 6) << 4).
void UnpackKScaleMin(const uint8_t* b, int* scale, int* min) {
  for (int j = 0; j < 4; ++j) {
    scale[j] = b[j] & 63;
    min[j] = b[j + 4] & 63;
    scale[j + 4] = (b[j + 8] & 0x0f) | ((b[j] >> 6) << 4);
    min[j + 4] = (b[j + 8] >> 4) | ((b[j + 4] >> 6) << 4);
  }
}

bool IsSupported(uint32_t type) {
  const TypeTraits* t = Find(type);
  return t != nullptr && t->block_elements != 0;
}

const char* TypeName(GgmlType type) {
  const TypeTraits* t = Find(static_cast<uint32_t>(type));
  return t != nullptr ? t->name : "unknown";
}

size_t BlockElements(GgmlType type) {
  const TypeTraits* t = Find(static_cast<uint32_t>(type));
  return t != nullptr ? t->block_elements : 0;
}

size_t BlockBytes(GgmlType type) {
  const TypeTraits* t = Find(static_cast<uint32_t>(type));
  return t != nullptr ? t->block_bytes : 0;
}

size_t RowBytes(GgmlType type, size_t n) {
  const size_t block = BlockElements(type);
  return block == 0 ? 0 : n / block * BlockBytes(type);
}

absl::Status Dequantize(GgmlType type, const void* src, size_t n, float* dst) {
  const size_t block = BlockElements(type);
  if (block == 0) {
    return absl::InvalidArgumentError(absl::StrCat("cannot dequantize ggml type ",
                                                   static_cast<uint32_t>(type), " (",
                                                   TypeName(type), "): not supported"));
  }
  if (n % block != 0) {
    return absl::InvalidArgumentError(absl::StrCat(n, " elements of ", TypeName(type),
                                                   " is not a whole number of ", block,
                                                   "-element blocks"));
  }
  if (n == 0) return absl::OkStatus();  // src and dst may be null
  const uint8_t* in = static_cast<const uint8_t*>(src);
  const size_t blocks = n / block;
  switch (type) {
    case GgmlType::kF32:
      DequantizeF32(in, n, dst);
      break;
    case GgmlType::kF16:
      DequantizeF16(in, n, dst);
      break;
    case GgmlType::kBF16:
      DequantizeBf16(in, n, dst);
      break;
    case GgmlType::kQ4_0:
      DequantizeQ4_0(in, blocks, dst);
      break;
    case GgmlType::kQ4_1:
      DequantizeQ4_1(in, blocks, dst);
      break;
    case GgmlType::kQ5_0:
      DequantizeQ5_0(in, blocks, dst);
      break;
    case GgmlType::kQ5_1:
      DequantizeQ5_1(in, blocks, dst);
      break;
    case GgmlType::kQ8_0:
      DequantizeQ8_0(in, blocks, dst);
      break;
    case GgmlType::kQ2_K:
      DequantizeQ2_K(in, blocks, dst);
      break;
    case GgmlType::kQ3_K:
      DequantizeQ3_K(in, blocks, dst);
      break;
    case GgmlType::kQ4_K:
      DequantizeQ4_K(in, blocks, dst);
      break;
    case GgmlType::kQ5_K:
      DequantizeQ5_K(in, blocks, dst);
      break;
    case GgmlType::kQ6_K:
      DequantizeQ6_K(in, blocks, dst);
      break;
    case GgmlType::kQ8_1:
    case GgmlType::kQ8_K:
      break;  // refused above (block == 0)
  }
  return absl::OkStatus();
}

}  // namespace latentbus::agent::gguf
