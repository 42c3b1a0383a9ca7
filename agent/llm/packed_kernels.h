// Matrix-vector products and row dequantization over PackedMatrix (their variants and the
// run-time choice among them: packed_kernel_variants.h), and what feeds them.
//
// Two products. `gemv` takes the activation row as floats: exact up to the order of float
// additions. `gemv_int8` takes it rounded to int8 in blocks of 32 (Int8Blocks, a float
// scale per block, as a Q8_0 block holds it): each block's dot product with the weight
// group is an exact integer sum, converted to float once and multiplied by the two
// scales, which is several times less work per weight than converting every weight to
// float. The rounding of the activations (at most half a step of amax / 127 per value)
// is the only difference from the exact product.
//
// Each variant equals the scalar reference up to the order of float additions (the
// integer sums exactly). Thread safety: pure functions; callers split rows across threads.
#ifndef LATENTBUS_AGENT_LLM_PACKED_KERNELS_H_
#define LATENTBUS_AGENT_LLM_PACKED_KERNELS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "agent/llm/packed_kernel_variants.h"
#include "agent/llm/packed_matrix.h"

namespace latentbus::agent::llm {

// An activation row rounded to int8 in blocks of 32 columns: value ~ scales[b] * q[i] with
// q in [-127, 127] (never -128, so that the kernels may negate it), scales[b] = the
// block's largest magnitude / 127.
struct Int8Blocks {
  std::vector<int8_t> q;
  std::vector<float> scales;
};

// Rounds x[0, cols) (cols a multiple of 32) into `out` (resized), nearest, ties to even.
void QuantizeActivations(const float* x, size_t cols, Int8Blocks* out);

// The fastest variant this CPU runs (packed_kernel_variants.h), chosen once. The
// environment variable LATENTBUS_KERNELS=scalar|avx2|avx2vnni|avx512|avx512vnni forces one the CPU
// runs (a name it cannot run is ignored).
const PackedKernels& BestPackedKernels();

// The threads a packed product splits its rows across (process-wide, at least 1;
// Model::Load sets it from LoadOptions::threads).
void SetPackedKernelThreads(int threads);
int PackedKernelThreads();

// out[g] = sum of x over columns [group * g, group * (g + 1)), for g < cols / group.
void GroupSums(const float* x, size_t cols, size_t group, float* out);

}  // namespace latentbus::agent::llm

#endif  // LATENTBUS_AGENT_LLM_PACKED_KERNELS_H_
