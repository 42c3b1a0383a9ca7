#include "codec/cpu_features.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace latentbus::codec {

CpuFeatures DetectCpuFeatures() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool fma = c & (1u << 12);
  const bool osxsave = c & (1u << 27);
  const bool avx = c & (1u << 28);
  const bool f16c = c & (1u << 29);
  if (!(fma && osxsave && avx && f16c)) return f;
  // The OS must save the YMM registers (XCR0 bits 1 and 2); for AVX-512 also the mask
  // registers and both halves of the ZMM file (bits 5, 6, 7).
  unsigned xcr0_lo, xcr0_hi;
  __asm__("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  if ((xcr0_lo & 0x6u) != 0x6u) return f;
  const bool os_zmm = (xcr0_lo & 0xe0u) == 0xe0u;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
  f.avx2 = b & (1u << 5);
  const unsigned avx512_set = (1u << 16) | (1u << 17) | (1u << 30) | (1u << 31);  // F DQ BW VL
  f.avx512 = f.avx2 && os_zmm && (b & avx512_set) == avx512_set;
  f.avx512_vnni = f.avx512 && (c & (1u << 11));
  const unsigned max_subleaf = a;
  if (f.avx2 && max_subleaf >= 1 && __get_cpuid_count(7, 1, &a, &b, &c, &d)) {
    f.avx_vnni = a & (1u << 4);
    f.avx512_bf16 = f.avx512 && (a & (1u << 5));
  }
#endif
  return f;
}

bool CpuHasAvx2() {
  static const bool has = DetectCpuFeatures().avx2;
  return has;
}

}  // namespace latentbus::codec
