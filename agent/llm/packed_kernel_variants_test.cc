// The choice among the packed kernel variants for a CPU's features (the variants' results
// are checked in packed_matrix_test.cc on this CPU and in tests/emulated/ on emulated ones).
#include "agent/llm/packed_kernel_variants.h"

#include <gtest/gtest.h>

#include <string>

namespace latentbus::agent::llm {
namespace {

codec::CpuFeatures Cpu(bool avx2, bool avx512, bool vnni, bool avx_vnni = false) {
  codec::CpuFeatures f;
  f.avx2 = avx2;
  f.avx512 = avx512;
  f.avx512_vnni = vnni;
  f.avx_vnni = avx_vnni;
  return f;
}

std::string Chosen(const codec::CpuFeatures& cpu, const char* forced = nullptr) {
  return ChoosePackedKernels(cpu, forced).name;
}

TEST(PackedKernelVariantsTest, TheFastestVariantTheCpuRunsIsChosen) {
#if defined(__x86_64__)
  EXPECT_EQ(Chosen(Cpu(true, true, true)), "avx512vnni");
  EXPECT_EQ(Chosen(Cpu(true, true, false)), "avx512");
  EXPECT_EQ(Chosen(Cpu(true, false, false)), "avx2");
  EXPECT_EQ(Chosen(Cpu(true, false, false, true)), "avx2vnni");  // Alder Lake
  EXPECT_EQ(Chosen(Cpu(true, true, true, true)), "avx512vnni");  // Sapphire Rapids
#endif
  EXPECT_EQ(Chosen(Cpu(false, false, false)), "scalar");
  EXPECT_EQ(Chosen(Cpu(false, false, false), ""), "scalar");
}

TEST(PackedKernelVariantsTest, AForcedVariantIsTakenOnlyWhenTheCpuRunsIt) {
  EXPECT_EQ(Chosen(Cpu(true, true, true), "scalar"), "scalar");
#if defined(__x86_64__)
  EXPECT_EQ(Chosen(Cpu(true, true, true), "avx2"), "avx2");
  EXPECT_EQ(Chosen(Cpu(true, true, true), "avx512"), "avx512");
  EXPECT_EQ(Chosen(Cpu(true, false, false), "avx512"), "avx2");
  EXPECT_EQ(Chosen(Cpu(true, true, false), "avx512vnni"), "avx512");
  EXPECT_EQ(Chosen(Cpu(true, true, true), "no-such-kernels"), "avx512vnni");
  EXPECT_EQ(Chosen(Cpu(true, true, true, true), "avx2vnni"), "avx2vnni");
  EXPECT_EQ(Chosen(Cpu(true, true, true, false), "avx2vnni"), "avx512vnni");
#endif
  EXPECT_EQ(PackedKernelsNamed("avx2", Cpu(false, false, false)), nullptr);
  EXPECT_EQ(PackedKernelsNamed("avx", Cpu(true, true, true)), nullptr);
  EXPECT_EQ(PackedKernelsNamed("scalar", Cpu(false, false, false)), &ScalarPackedKernels());
}

}  // namespace
}  // namespace latentbus::agent::llm
