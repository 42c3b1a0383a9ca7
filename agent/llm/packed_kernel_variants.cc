#include "agent/llm/packed_kernel_variants.h"

namespace latentbus::agent::llm {
namespace {

bool SameName(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) ++a, ++b;
  return *a == *b;
}

struct Candidate {
  const PackedKernels* kernels;
  bool runs;
};

// Fastest first.
template <typename Visit>
const PackedKernels* FirstThatRuns(const codec::CpuFeatures& cpu, Visit accept) {
  const Candidate all[] = {{Avx512VnniPackedKernelsIfBuilt(), cpu.avx512_vnni},
                           {Avx512PackedKernelsIfBuilt(), cpu.avx512},
                           {Avx2VnniPackedKernelsIfBuilt(), cpu.avx_vnni},
                           {Avx2PackedKernelsIfBuilt(), cpu.avx2},
                           {&ScalarPackedKernels(), true}};
  for (const Candidate& c : all) {
    if (c.kernels != nullptr && c.runs && accept(*c.kernels)) return c.kernels;
  }
  return nullptr;
}

}  // namespace

const PackedKernels* PackedKernelsNamed(const char* name, const codec::CpuFeatures& cpu) {
  return FirstThatRuns(cpu, [&](const PackedKernels& k) { return SameName(k.name, name); });
}

const PackedKernels& ChoosePackedKernels(const codec::CpuFeatures& cpu, const char* forced) {
  if (forced != nullptr && *forced != '\0') {
    if (const PackedKernels* k = PackedKernelsNamed(forced, cpu)) return *k;
  }
  return *FirstThatRuns(cpu, [](const PackedKernels&) { return true; });
}

}  // namespace latentbus::agent::llm
