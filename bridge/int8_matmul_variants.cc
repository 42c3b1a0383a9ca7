#include "bridge/int8_matmul.h"
#include "codec/kernel_choice.h"

namespace latentbus::bridge {
namespace {

const Int8MatmulKernels* FirstThatRuns(const codec::CpuFeatures& cpu, const char* name) {
  const codec::KernelCandidate<Int8MatmulKernels> fastest_first[] = {
      {Avx512VnniInt8MatmulKernelsIfBuilt(), cpu.avx512_vnni},
      {Avx512Int8MatmulKernelsIfBuilt(), cpu.avx512},
      {Avx2VnniInt8MatmulKernelsIfBuilt(), cpu.avx_vnni},
      {Avx2Int8MatmulKernelsIfBuilt(), cpu.avx2},
      {&ScalarInt8MatmulKernels(), true}};
  return codec::FirstKernelsThatRun(fastest_first, name);
}

}  // namespace

const Int8MatmulKernels* Int8MatmulKernelsNamed(const char* name, const codec::CpuFeatures& cpu) {
  if (name == nullptr || *name == '\0') return nullptr;
  return FirstThatRuns(cpu, name);
}

const Int8MatmulKernels& BestInt8MatmulKernels(const codec::CpuFeatures& cpu) {
  return *FirstThatRuns(cpu, nullptr);
}

}  // namespace latentbus::bridge
