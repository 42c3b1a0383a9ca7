#include "codec/kernels.h"

#include <cstdlib>
#include <cstring>

namespace latentbus::codec {
#if defined(LATENTBUS_HAVE_AVX2)
namespace internal {
const Kernels& Avx2KernelTable();  // kernels_avx2.cc
}  // namespace internal
#endif

const Kernels* Avx2Kernels() {
#if defined(LATENTBUS_HAVE_AVX2)
  static const bool supported = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                                __builtin_cpu_supports("f16c");
  return supported ? &internal::Avx2KernelTable() : nullptr;
#else
  return nullptr;
#endif
}

const Kernels& DefaultKernels() {
  static const Kernels* chosen = [] {
    const char* force = std::getenv("LATENTBUS_CODEC_KERNELS");
    if (force != nullptr && std::strcmp(force, "scalar") == 0) return &ScalarKernels();
    const Kernels* avx2 = Avx2Kernels();
    return avx2 != nullptr ? avx2 : &ScalarKernels();
  }();
  return *chosen;
}

}  // namespace latentbus::codec
