// Synthetic tensors that look like LLM hidden states, for tests and benchmarks.
#ifndef LATENTBUS_CODEC_SYNTHETIC_H_
#define LATENTBUS_CODEC_SYNTHETIC_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "codec/tensor.h"

namespace latentbus::codec {

// [rows, width] with i.i.d. N(0, 1) entries; deterministic for a seed.
Tensor GaussianTensor(uint32_t rows, uint32_t width, uint64_t seed);

// Gaussian, except `num_outliers` fixed channels (chosen by the seed) scaled by
// `outlier_scale`: the outlier-channel pattern of real hidden states.
Tensor OutlierTensor(uint32_t rows, uint32_t width, uint64_t seed, uint32_t num_outliers = 4,
                     float outlier_scale = 20.0f);

// The outlier channels OutlierTensor picks for a seed (sorted).
std::vector<uint32_t> OutlierChannels(uint32_t width, uint64_t seed, uint32_t num_outliers);

// ||a - b|| / ||a|| over all elements, optionally only over channels not in `skip`.
double RelativeError(const Tensor& a, absl::Span<const float> b,
                     const std::vector<uint32_t>& skip_channels = {});

}  // namespace latentbus::codec

#endif  // LATENTBUS_CODEC_SYNTHETIC_H_
