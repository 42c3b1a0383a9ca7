#include "agent/llm/decode_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "agent/llm/packed_kernels.h"

// The dot products and sums of attention are compiled twice, for AVX2 and for the
// baseline, and the loader picks one for the CPU (GCC and Clang function clones).
#if defined(__x86_64__) && defined(__ELF__)
#define LATENTBUS_AVX2_CLONE __attribute__((target_clones("avx2", "default")))
#else
#define LATENTBUS_AVX2_CLONE
#endif

namespace latentbus::agent::llm {
namespace {

// Eight independent partial sums, so that the compiler can keep them in one vector
// register (float additions are not reassociated for it).
LATENTBUS_AVX2_CLONE float Dot(const float* a, const float* b, int64_t n) {
  float part[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int l = 0; l < 8; ++l) part[l] += a[i + l] * b[i + l];
  }
  float s = 0;
  for (; i < n; ++i) s += a[i] * b[i];
  for (float p : part) s += p;
  return s;
}

// y[i] += a * x[i].
LATENTBUS_AVX2_CLONE void Axpy(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

// Multiply-adds in one attention step above which its heads are split across threads.
constexpr int64_t kParallelAttention = int64_t{1} << 16;

}  // namespace

bool UseDecodePath(const torch::Tensor& x, const KvCache* cache) {
  return cache != nullptr && x.dim() == 2 && x.size(0) == 1 && x.device().is_cpu() &&
         x.scalar_type() == torch::kFloat32 && x.is_contiguous() && !torch::GradMode::is_enabled();
}

DecodeRows::DecodeRows(const ModelConfig& c)
    : normed(static_cast<size_t>(c.hidden_size)),
      q(static_cast<size_t>(c.num_heads * c.head_dim)),
      k(static_cast<size_t>(c.num_kv_heads * c.head_dim)),
      v(k.size()),
      attended(q.size()),
      projected(normed.size()),
      gate(static_cast<size_t>(c.ffn_size)),
      up(gate.size()) {}

void RmsNormRow(const float* x, const float* w, int64_t n, double eps, float* out) {
  double squares = 0;
  for (int64_t i = 0; i < n; ++i) squares += static_cast<double>(x[i]) * x[i];
  const float mean = static_cast<float>(squares / static_cast<double>(n));
  const float r = 1.0f / std::sqrt(mean + static_cast<float>(eps));
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * r * w[i];
}

void AddRow(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

void SiluGateRow(float* gate, const float* up, int64_t n) {
  torch::Tensor g = torch::from_blob(gate, {n}, torch::kFloat32);
  torch::silu_(g);
  for (int64_t i = 0; i < n; ++i) gate[i] *= up[i];
}

void GeluGateRow(float* gate, const float* up, int64_t n) {
  torch::Tensor g = torch::from_blob(gate, {n}, torch::kFloat32);
  torch::gelu_out(g, g, "tanh");
  for (int64_t i = 0; i < n; ++i) gate[i] *= up[i];
}

DecodeRope::DecodeRope(const ModelConfig& c) : head_dim_(c.head_dim), style_(c.rope_style) {
  auto frequencies = [&](double base) {
    std::vector<float> f(static_cast<size_t>(c.head_dim / 2));
    for (size_t i = 0; i < f.size(); ++i) {
      const float exponent = static_cast<float>(2 * i) / static_cast<float>(c.head_dim);
      f[i] = 1.0f / std::pow(static_cast<float>(base), exponent);
    }
    return f;
  };
  global_ = frequencies(c.rope_base);
  local_ = frequencies(c.rope_local_base);
}

void DecodeRope::Rotate(float* x, int64_t heads, int64_t pos, bool local) const {
  const std::vector<float>& frequency = local ? local_ : global_;
  const int64_t half = head_dim_ / 2;
  thread_local std::vector<float> cos, sin;
  cos.resize(static_cast<size_t>(half));
  sin.resize(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i) {
    const float angle = static_cast<float>(pos) * frequency[i];
    cos[i] = std::cos(angle);
    sin[i] = std::sin(angle);
  }
  for (int64_t h = 0; h < heads; ++h, x += head_dim_) {
    for (int64_t i = 0; i < half; ++i) {
      // kHalves pairs channel i with i + d/2; kInterleaved pairs 2i with 2i + 1.
      float& a = style_ == RopeStyle::kHalves ? x[i] : x[2 * i];
      float& b = style_ == RopeStyle::kHalves ? x[i + half] : x[2 * i + 1];
      const float a0 = a, b0 = b;
      a = a0 * cos[i] - b0 * sin[i];
      b = b0 * cos[i] + a0 * sin[i];
    }
  }
}

void AttendRow(const ModelConfig& c, const DecodeRope& rope, size_t layer, float* q, float* k,
               const float* v, KvCache* cache, float* out) {
  const int64_t hd = c.head_dim, pos = cache->length();
  const bool local = c.layer_is_local[layer];
  rope.Rotate(q, c.num_heads, pos, local);
  rope.Rotate(k, c.num_kv_heads, pos, local);
  for (int64_t h = 0; h < c.num_kv_heads; ++h) {
    std::memcpy(cache->key(layer, h, pos), k + h * hd, static_cast<size_t>(hd) * sizeof(float));
    std::memcpy(cache->value(layer, h, pos), v + h * hd, static_cast<size_t>(hd) * sizeof(float));
  }
  // The query sees keys first .. pos: all before it, or the window's on local layers.
  const int64_t first =
      local && c.sliding_window > 0 ? std::max<int64_t>(0, pos - c.sliding_window + 1) : 0;
  const int64_t seen = pos + 1 - first, group = c.num_heads / c.num_kv_heads;
  const float scale = static_cast<float>(c.attention_scale);
  auto head = [&](int64_t h) {
    float* qh = q + h * hd;
    float* oh = out + h * hd;
    for (int64_t i = 0; i < hd; ++i) qh[i] *= scale;
    const float* keys = cache->key(layer, h / group, first);
    const float* values = cache->value(layer, h / group, first);
    std::vector<float> p(static_cast<size_t>(seen));
    float top = -INFINITY;
    for (int64_t j = 0; j < seen; ++j) {
      p[j] = Dot(qh, keys + j * hd, hd);
      top = std::max(top, p[j]);
    }
    float sum = 0;
    for (float& e : p) {
      e = std::exp(e - top);
      sum += e;
    }
    std::fill(oh, oh + hd, 0.0f);
    for (int64_t j = 0; j < seen; ++j) Axpy(p[j] / sum, values + j * hd, oh, hd);
  };
  const int threads = PackedKernelThreads();
  if (threads > 1 && c.num_heads > 1 && c.num_heads * seen * hd > kParallelAttention) {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t h = 0; h < c.num_heads; ++h) head(h);
  } else {
    for (int64_t h = 0; h < c.num_heads; ++h) head(h);
  }
}

}  // namespace latentbus::agent::llm
