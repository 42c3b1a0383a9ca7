// The avx512 variant of the int8 product (the code is in int8_matmul_avx512.inc). This file
// alone is compiled with the AVX-512 flags (CMakeLists.txt); it is reached only after a CPU check.
#include "bridge/int8_matmul.h"

#if defined(__x86_64__)
#define LATENTBUS_INT8_VNNI 0
#include "bridge/int8_matmul_avx512.inc"

namespace latentbus::bridge {
const Int8MatmulKernels* Avx512Int8MatmulKernelsIfBuilt() {
  static constexpr Int8MatmulKernels kKernels{"avx512", false, &Matmul, &QuantizeRows<false>};
  return &kKernels;
}
}  // namespace latentbus::bridge

#else  // not x86-64

namespace latentbus::bridge {
const Int8MatmulKernels* Avx512Int8MatmulKernelsIfBuilt() { return nullptr; }
}  // namespace latentbus::bridge

#endif
