#include "agent/llm/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace latentbus::agent::llm {

Sampler::Sampler(float temperature, float top_p, uint64_t seed)
    : temperature_(temperature), top_p_(std::clamp(top_p, 1e-6f, 1.0f)), rng_(seed) {}

int32_t Sampler::Next(absl::Span<const float> logits) {
  if (logits.empty()) return -1;
  if (temperature_ <= 0.0f) {
    return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  }
  const float max_logit = *std::max_element(logits.begin(), logits.end());
  std::vector<std::pair<double, int32_t>> probs(logits.size());
  double total = 0.0;
  for (size_t i = 0; i < logits.size(); ++i) {
    const double p = std::exp((static_cast<double>(logits[i]) - max_logit) / temperature_);
    probs[i] = {p, static_cast<int32_t>(i)};
    total += p;
  }
  // Highest probability first (ties: lower id first), then keep the smallest prefix
  // whose mass reaches top_p.
  std::sort(probs.begin(), probs.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  double kept = 0.0;
  size_t n = 0;
  while (n < probs.size() && (n == 0 || kept < top_p_ * total)) kept += probs[n++].first;
  const double r = std::uniform_real_distribution<double>(0.0, kept)(rng_);
  double acc = 0.0;
  for (size_t i = 0; i < n; ++i) {
    acc += probs[i].first;
    if (r < acc) return probs[i].second;
  }
  return probs[n - 1].second;
}

}  // namespace latentbus::agent::llm
