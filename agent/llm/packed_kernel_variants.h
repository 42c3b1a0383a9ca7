// The variants of the packed kernels (a table of function pointers each), and the choice
// among them for a CPU. Every variant equals the scalar reference up to the order of
// float additions (integer sums exactly; dequantization bit for bit):
//
//   scalar      portable C++, the reference
//   avx2        AVX2 + FMA + F16C
//   avx2vnni    avx2 with AVX-VNNI's vpdpbusd for the int8 products (Alder Lake and later
//               client CPUs, which lack AVX-512)
//   avx512      AVX-512 F/BW/DQ/VL + FMA (Skylake-X and later, AMD Zen 4)
//   avx512vnni  avx512 with VNNI's vpdpbusd for the int8 products (Ice Lake, Zen 4)
//
// Each vector variant lives in its own file compiled with its instructions enabled, and is
// reached only through ChoosePackedKernels after a CPU check. Freestanding like
// packed_view.h (the emulated self-test runs every variant on emulated CPUs).
#ifndef LATENTBUS_AGENT_LLM_PACKED_KERNEL_VARIANTS_H_
#define LATENTBUS_AGENT_LLM_PACKED_KERNEL_VARIANTS_H_

#include <cstddef>
#include <cstdint>

#include "agent/llm/packed_view.h"
#include "codec/cpu_features.h"

namespace latentbus::agent::llm {

struct PackedKernels {
  const char* name;  // "scalar", "avx2", "avx2vnni", "avx512", "avx512vnni"
  // y[r - begin] = sum_c M[r, c] * x[c] for rows r in [begin, end). `group_sums`: for
  // kInt4, the sum of x over each group of 32 columns (GroupSums); ignored for kInt8.
  void (*gemv)(const PackedView& m, const float* x, const float* group_sums, float* y, size_t begin,
               size_t end);
  // For kF16 / kBF16 (which LinearWeight never multiplies so) every variant runs the scalar
  // product with the rounded values. As gemv with x rounded to int8 blocks of 32 (`xq` in [-127,
  // 127], a scale per block in `xscales`: Int8Blocks) in place of x; `group_sums` (kInt4: the min
  // term) are still the sums of the exact row.
  void (*gemv_int8)(const PackedView& m, const int8_t* xq, const float* xscales,
                    const float* group_sums, float* y, size_t begin, size_t end);
  // Rows [begin, end) as floats, row-major into `out`: the exact values.
  void (*dequantize)(const PackedView& m, size_t begin, size_t end, float* out);
};

const PackedKernels& ScalarPackedKernels();
// Each null when the build targets another architecture; they do not check the CPU.
const PackedKernels* Avx2PackedKernelsIfBuilt();
const PackedKernels* Avx2VnniPackedKernelsIfBuilt();
const PackedKernels* Avx512PackedKernelsIfBuilt();
const PackedKernels* Avx512VnniPackedKernelsIfBuilt();

// The variant `cpu` runs, by name, or null when it cannot (or no such variant is built).
const PackedKernels* PackedKernelsNamed(const char* name, const codec::CpuFeatures& cpu);

// The fastest variant `cpu` runs, or the one `forced` names (null or "" for none) when
// `cpu` runs it; a name it cannot run is ignored.
const PackedKernels& ChoosePackedKernels(const codec::CpuFeatures& cpu, const char* forced);

}  // namespace latentbus::agent::llm

#endif  // LATENTBUS_AGENT_LLM_PACKED_KERNEL_VARIANTS_H_
