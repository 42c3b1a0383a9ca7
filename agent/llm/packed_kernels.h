// Matrix-vector products and row dequantization over PackedMatrix, for float
// activations: a portable scalar reference and an AVX2+FMA variant, chosen at run time
// (the AVX2 file is the only one compiled with those instructions enabled).
//
// Results equal the scalar reference up to the order of float additions. Thread safety:
// pure functions; callers split rows across threads.
#ifndef LATENTBUS_AGENT_LLM_PACKED_KERNELS_H_
#define LATENTBUS_AGENT_LLM_PACKED_KERNELS_H_

#include <cstddef>

#include "agent/llm/packed_matrix.h"

namespace latentbus::agent::llm {

struct PackedKernels {
  const char* name;  // "scalar", "avx2"
  // y[r - begin] = sum_c M[r, c] * x[c] for rows r in [begin, end). `group_sums`: for
  // kInt4, the sum of x over each group of 32 columns (GroupSums); ignored for kInt8.
  void (*gemv)(const PackedMatrix& m, const float* x, const float* group_sums, float* y,
               size_t begin, size_t end);
  // Rows [begin, end) as floats, row-major into `out`: exactly PackedMatrix::DequantizeRows.
  void (*dequantize)(const PackedMatrix& m, size_t begin, size_t end, float* out);
};

const PackedKernels& ScalarPackedKernels();
// Null when this CPU lacks AVX2 or FMA (or the build targets another architecture).
const PackedKernels* Avx2PackedKernels();
// The fastest variant this CPU runs: AVX2 when present, else scalar. The environment
// variable LATENTBUS_KERNELS=scalar forces the reference.
const PackedKernels& BestPackedKernels();

// The threads a packed product splits its rows across (process-wide, at least 1;
// Model::Load sets it from LoadOptions::threads).
void SetPackedKernelThreads(int threads);
int PackedKernelThreads();

// out[g] = sum of x over columns [group * g, group * (g + 1)), for g < cols / group.
void GroupSums(const float* x, size_t cols, size_t group, float* out);

}  // namespace latentbus::agent::llm

#endif  // LATENTBUS_AGENT_LLM_PACKED_KERNELS_H_
