#include "codec/kernels.h"

#include <cstdlib>
#include <cstring>

#include "codec/cpu_features.h"

namespace latentbus::codec {
#if defined(LATENTBUS_HAVE_AVX2)
namespace internal {
const Kernels& Avx2KernelTable();  // kernels_avx2.cc
}  // namespace internal
#endif

const Kernels* Avx2Kernels() {
#if defined(LATENTBUS_HAVE_AVX2)
  return CpuHasAvx2() ? &internal::Avx2KernelTable() : nullptr;
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
