#include "codec/synthetic.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace latentbus::codec {

Tensor GaussianTensor(uint32_t rows, uint32_t width, uint64_t seed) {
  Tensor t;
  t.shape = {rows, width};
  t.data.resize(static_cast<size_t>(rows) * width);
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (float& v : t.data) v = normal(rng);
  return t;
}

std::vector<uint32_t> OutlierChannels(uint32_t width, uint64_t seed, uint32_t num_outliers) {
  std::vector<uint32_t> channels(width);
  for (uint32_t i = 0; i < width; ++i) channels[i] = i;
  std::mt19937_64 rng(seed ^ 0x5eed);
  std::shuffle(channels.begin(), channels.end(), rng);
  channels.resize(std::min(num_outliers, width));
  std::sort(channels.begin(), channels.end());
  return channels;
}

Tensor OutlierTensor(uint32_t rows, uint32_t width, uint64_t seed, uint32_t num_outliers,
                     float outlier_scale) {
  Tensor t = GaussianTensor(rows, width, seed);
  for (uint32_t c : OutlierChannels(width, seed, num_outliers)) {
    for (uint32_t r = 0; r < rows; ++r) t.data[static_cast<size_t>(r) * width + c] *= outlier_scale;
  }
  return t;
}

double RelativeError(const Tensor& a, absl::Span<const float> b,
                     const std::vector<uint32_t>& skip_channels) {
  std::vector<bool> skip(a.width(), false);
  for (uint32_t c : skip_channels) skip[c] = true;
  double err = 0.0, ref = 0.0;
  for (size_t i = 0; i < a.data.size(); ++i) {
    if (skip[i % a.width()]) continue;
    const double d = static_cast<double>(a.data[i]) - b[i];
    err += d * d;
    ref += static_cast<double>(a.data[i]) * a.data[i];
  }
  return ref > 0 ? std::sqrt(err / ref) : std::sqrt(err);
}

}  // namespace latentbus::codec
