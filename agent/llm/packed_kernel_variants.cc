#include "agent/llm/packed_kernel_variants.h"

#include "codec/kernel_choice.h"

namespace latentbus::agent::llm {
namespace {

// `name` null or "": the fastest.
const PackedKernels* FirstThatRuns(const codec::CpuFeatures& cpu, const char* name) {
  const codec::KernelCandidate<PackedKernels> fastest_first[] = {
      {Avx512VnniPackedKernelsIfBuilt(), cpu.avx512_vnni},
      {Avx512PackedKernelsIfBuilt(), cpu.avx512},
      {Avx2VnniPackedKernelsIfBuilt(), cpu.avx_vnni},
      {Avx2PackedKernelsIfBuilt(), cpu.avx2},
      {&ScalarPackedKernels(), true}};
  return codec::FirstKernelsThatRun(fastest_first, name);
}

}  // namespace

const PackedKernels* PackedKernelsNamed(const char* name, const codec::CpuFeatures& cpu) {
  if (name == nullptr || *name == '\0') return nullptr;
  return FirstThatRuns(cpu, name);
}

const PackedKernels& ChoosePackedKernels(const codec::CpuFeatures& cpu, const char* forced) {
  if (forced != nullptr && *forced != '\0') {
    if (const PackedKernels* k = PackedKernelsNamed(forced, cpu)) return *k;
  }
  return *FirstThatRuns(cpu, nullptr);
}

}  // namespace latentbus::agent::llm
