// Choosing among the builds (variants) of a kernel table: the first one, fastest first,
// that was built for this architecture, that the CPU runs and, when a name is asked for,
// that has it. Shared by the runtime's packed kernels and the bridges' int8 products.
// Freestanding (header only, no library calls): the emulated self-tests include it.
#ifndef LATENTBUS_CODEC_KERNEL_CHOICE_H_
#define LATENTBUS_CODEC_KERNEL_CHOICE_H_

#include <cstddef>

namespace latentbus::codec {

// The variants' names, slowest instruction set first (both kernel families use them).
inline constexpr const char* kKernelVariantNames[] = {"scalar", "avx2", "avx2vnni", "avx512",
                                                      "avx512vnni"};

template <typename Kernels>
struct KernelCandidate {
  const Kernels* kernels;  // null when not built for this architecture
  bool runs;               // the CPU has what it needs
};

inline bool SameKernelName(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) ++a, ++b;
  return *a == *b;
}

// `name` null or "": any. Kernels must have a `const char* name` member.
template <typename Kernels, size_t N>
const Kernels* FirstKernelsThatRun(const KernelCandidate<Kernels> (&fastest_first)[N],
                                   const char* name) {
  for (const KernelCandidate<Kernels>& c : fastest_first) {
    if (c.kernels == nullptr || !c.runs) continue;
    if (name == nullptr || *name == '\0' || SameKernelName(c.kernels->name, name)) {
      return c.kernels;
    }
  }
  return nullptr;
}

}  // namespace latentbus::codec

#endif  // LATENTBUS_CODEC_KERNEL_CHOICE_H_
