// Run-time CPU feature checks for the vector paths (the codec's, the runtime's packed
// kernels). A feature counts only when the OS also saves the registers it needs (XCR0).
// Freestanding: no allocation, no library calls (the emulated kernel self-tests link it).
#ifndef LATENTBUS_CODEC_CPU_FEATURES_H_
#define LATENTBUS_CODEC_CPU_FEATURES_H_

namespace latentbus::codec {

struct CpuFeatures {
  bool avx2 = false;         // AVX2 with FMA and F16C (what every AVX2 path assumes)
  bool avx512 = false;       // AVX-512 F, BW, DQ and VL (the Skylake-X set) with FMA
  bool avx512_vnni = false;  // avx512 and AVX-512 VNNI (vpdpbusd)
  bool avx512_bf16 = false;  // avx512 and AVX-512 BF16 (vdpbf16ps)
  bool avx_vnni = false;     // avx2 and AVX-VNNI (vpdpbusd on 256 bits, VEX-encoded)
};

// Asks the CPU (cpuid, xgetbv) each call.
CpuFeatures DetectCpuFeatures();

// DetectCpuFeatures().avx2, computed once; thread-safe.
bool CpuHasAvx2();

}  // namespace latentbus::codec

#endif  // LATENTBUS_CODEC_CPU_FEATURES_H_
