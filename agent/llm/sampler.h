// Next-token choice from logits: greedy, or seeded temperature + nucleus (top-p)
// sampling. Deterministic for a given seed and sequence of calls.
//
// Thread-compatible: one Sampler per generation.
#ifndef LATENTBUS_AGENT_LLM_SAMPLER_H_
#define LATENTBUS_AGENT_LLM_SAMPLER_H_

#include <cstdint>
#include <random>

#include "absl/types/span.h"

namespace latentbus::agent::llm {

class Sampler {
 public:
  // temperature <= 0 means greedy (argmax, lowest id on ties); top_p in (0, 1].
  Sampler(float temperature, float top_p, uint64_t seed);

  int32_t Next(absl::Span<const float> logits);

 private:
  float temperature_;
  float top_p_;
  std::mt19937_64 rng_;
};

}  // namespace latentbus::agent::llm

#endif  // LATENTBUS_AGENT_LLM_SAMPLER_H_
