// What the freestanding kernel self-tests share (agent/llm/packed_kernels_selftest.cc,
// bridge/int8_matmul_selftest.cc): the report tests/emulated/kernels_test.py reads, a
// random generator that gives the same sequence on every CPU, and text without a C
// library. Header only; no allocation, no library calls.
#ifndef LATENTBUS_TESTS_EMULATED_SELFTEST_H_
#define LATENTBUS_TESTS_EMULATED_SELFTEST_H_

#include <cstddef>
#include <cstdint>

#include "codec/kernel_choice.h"

namespace latentbus::emulated {

// The kernel variants, in the order of SelftestReport::variants' bits.
inline constexpr const auto& kVariantNames = codec::kKernelVariantNames;
inline constexpr uint32_t kVariantCount = sizeof(kVariantNames) / sizeof(kVariantNames[0]);

// Read by tests/emulated/kernels_test.py: keep the layout in step.
struct SelftestReport {
  char chosen[16];    // the variant the run-time choice takes on this CPU
  uint32_t variants;  // bit i: kVariantNames[i] was checked
  uint32_t cases;     // (case, variant) pairs checked
  uint32_t failures;
  uint32_t real_matrices;
  float worst;        // the largest |error| / tolerance seen (a pass is <= 1)
  char failure[108];  // the first failure, as text
};
static_assert(sizeof(SelftestReport) == 144, "the harness reads 144 bytes");

// xorshift64*: the same sequence on every CPU.
struct Random {
  uint64_t state;
  uint64_t Next() {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545F4914F6CDD1DULL;
  }
  float Uniform(float lo, float hi) {  // [lo, hi)
    return lo + (hi - lo) * static_cast<float>(Next() >> 40) / static_cast<float>(1 << 24);
  }
};

inline double Abs(double v) { return v < 0 ? -v : v; }

inline bool SameBits(float a, float b) {
  return __builtin_bit_cast(uint32_t, a) == __builtin_bit_cast(uint32_t, b);
}

inline void Copy(char* out, size_t room, const char* text) {
  size_t i = 0;
  for (; text[i] != '\0' && i + 1 < room; ++i) out[i] = text[i];
  out[i] = '\0';
}

// Appends to a fixed buffer (the failure text).
struct Text {
  char* out;
  size_t room, used = 0;
  Text& operator<<(const char* s) {
    while (*s != '\0' && used + 1 < room) out[used++] = *s++;
    out[used] = '\0';
    return *this;
  }
  Text& operator<<(uint64_t v) {
    char digits[24];
    int n = 0;
    do {
      digits[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    char s[24];
    for (int i = 0; i < n; ++i) s[i] = digits[n - 1 - i];
    s[n] = '\0';
    return *this << static_cast<const char*>(s);
  }
};

}  // namespace latentbus::emulated

#endif  // LATENTBUS_TESTS_EMULATED_SELFTEST_H_
