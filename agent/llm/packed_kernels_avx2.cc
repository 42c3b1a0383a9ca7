// The avx2 variant of the packed kernels (AVX2 + FMA + F16C; the code is in
// packed_kernels_avx2.inc). This file alone is compiled with -mavx2 -mfma -mf16c
// (CMakeLists.txt); ChoosePackedKernels reaches it only after checking the CPU.
#include "agent/llm/packed_kernel_variants.h"

#if defined(__x86_64__)
#define LATENTBUS_PACKED_AVX_VNNI 0
#include "agent/llm/packed_kernels_avx2.inc"

namespace latentbus::agent::llm {

const PackedKernels* Avx2PackedKernelsIfBuilt() {
  static constexpr PackedKernels kKernels{"avx2", &Avx2Gemv, &Avx2GemvInt8, &Avx2Dequantize};
  return &kKernels;
}

}  // namespace latentbus::agent::llm

#else  // not x86-64

namespace latentbus::agent::llm {
const PackedKernels* Avx2PackedKernelsIfBuilt() { return nullptr; }
}  // namespace latentbus::agent::llm

#endif
