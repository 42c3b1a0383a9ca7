// `latentbus bench model`: prefill and decode speed of the LLM runtime next to a bare
// float matrix multiply of the model's dominant shape, measured in the same run.
#ifndef LATENTBUS_BENCH_MODEL_BENCH_H_
#define LATENTBUS_BENCH_MODEL_BENCH_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/llm/model.h"
#include "bench/timing.h"
#include "nlohmann/json.hpp"

namespace latentbus::bench {

struct ModelBenchOptions {
  std::vector<int> prefill_tokens = {64, 512};
  int decode_tokens = 32;
  TimingOptions timing = {5, 0.0};  // each prefill sample is already long
};

// FLOPs of one prefill of `t` tokens as this runtime executes it: every projection, the
// full (masked) T x T attention products, and the output projection of the last position.
double PrefillFlops(const agent::llm::ModelInfo& info, int64_t t);

// JSON keys: "prefill_tok_s", "prefill_gflops" and "prefill_vs_matmul" (longest prefill),
// "decode_tok_s",
// "matmul_gflops", "threads", and "prefill" (one entry per length).
absl::StatusOr<nlohmann::json> RunModelBench(const agent::llm::Model& model,
                                             const ModelBenchOptions& options,
                                             std::ostream* progress);

void PrintModelBenchTable(const nlohmann::json& result, std::ostream& out);

}  // namespace latentbus::bench

#endif  // LATENTBUS_BENCH_MODEL_BENCH_H_
