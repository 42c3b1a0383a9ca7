#include "codec/kernels.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "codec/cpu_features.h"
#include "codec/rotation_kernels.h"

namespace latentbus::codec {
#if defined(LATENTBUS_HAVE_AVX2)
namespace internal {
const Kernels& Avx2KernelTable();  // kernels_avx2.cc
#if defined(LATENTBUS_HAVE_AVX512)
void UseAvx512Kernels(Kernels* k);  // kernels_avx512.cc
#endif
}  // namespace internal
#endif

const Kernels* Avx2Kernels() {
#if defined(LATENTBUS_HAVE_AVX2)
  return CpuHasAvx2() ? &internal::Avx2KernelTable() : nullptr;
#else
  return nullptr;
#endif
}

const Kernels* Avx512Kernels() {
#if defined(LATENTBUS_HAVE_AVX512)
  static const Kernels* table = []() -> const Kernels* {
    if (std::strcmp(BestKernelsName(DetectCpuFeatures()), "avx512") != 0) return nullptr;
    static Kernels kernels = [] {
      Kernels k = internal::Avx2KernelTable();
      k.name = "avx512";
      internal::UseAvx512Kernels(&k);
      return k;
    }();
    return &kernels;
  }();
  return table;
#else
  return nullptr;
#endif
}

const Kernels* KernelsNamed(const char* name) {
  if (std::strcmp(name, "scalar") == 0) return &ScalarKernels();
  if (std::strcmp(name, "avx2") == 0) return Avx2Kernels();
  if (std::strcmp(name, "avx512") == 0) return Avx512Kernels();
  return nullptr;
}

const Kernels& DefaultKernels() {
  static const Kernels* chosen = [] {
    const char* force = std::getenv("LATENTBUS_CODEC_KERNELS");
    if (force != nullptr && *force != '\0') {
      if (const Kernels* named = KernelsNamed(force)) return named;
      std::fprintf(stderr,
                   "latentbus: LATENTBUS_CODEC_KERNELS: this CPU or build cannot run codec kernels "
                   "named '%.40s' (scalar, avx2, avx512); using the fastest it runs\n",
                   force);
    }
    // The best this CPU runs (a build for another architecture has only the scalar ones).
    const Kernels* best = KernelsNamed(BestKernelsName(DetectCpuFeatures()));
    return best != nullptr ? best : &ScalarKernels();
  }();
  return *chosen;
}

}  // namespace latentbus::codec
