// The avx512vnni variant of the packed kernels (AVX-512 with VNNI; the code is in
// packed_kernels_avx512.inc). This file alone is compiled with the AVX-512 flags and -mavx512vnni
// (CMakeLists.txt); ChoosePackedKernels reaches it only after checking the CPU.
#include "agent/llm/packed_kernel_variants.h"

#if defined(__x86_64__)
#define LATENTBUS_PACKED_VNNI 1
#include "agent/llm/packed_kernels_avx512.inc"

namespace latentbus::agent::llm {

const PackedKernels* Avx512VnniPackedKernelsIfBuilt() {
  static constexpr PackedKernels kKernels{"avx512vnni", &Gemv, &GemvInt8, &Dequantize};
  return &kKernels;
}

}  // namespace latentbus::agent::llm

#else  // not x86-64

namespace latentbus::agent::llm {
const PackedKernels* Avx512VnniPackedKernelsIfBuilt() { return nullptr; }
}  // namespace latentbus::agent::llm

#endif
