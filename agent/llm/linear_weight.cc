#include "agent/llm/linear_weight.h"

#include <omp.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "agent/llm/packed_kernels.h"

namespace latentbus::agent::llm {
namespace {

// Rows of a packed matrix dequantized at once in a prefill: about 1 MiB of floats (the
// buffer is reused, and mostly still in cache when BLAS reads it).
size_t ChunkRows(size_t cols) { return std::max<size_t>(16, (size_t{1} << 20) / (cols * 4)); }

// Rows per thread at least, when a product is split across threads.
constexpr int64_t kGemvGrain = 64;

// Calls f(begin, end) on contiguous parts of [0, n), one per thread, on at most
// PackedKernelThreads() OpenMP threads. libtorch's own intra-op pool is kept at one thread
// when OpenBLAS threads the BLAS calls (torch_edge), so the packed kernels bring their own.
template <typename F>
void ParallelRows(int64_t n, int64_t grain, const F& f) {
  const int64_t useful = std::max<int64_t>(1, n / grain);
  const int threads = static_cast<int>(std::min<int64_t>(PackedKernelThreads(), useful));
  if (threads <= 1) {
    f(0, n);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    const int64_t k = omp_get_thread_num(), t = omp_get_num_threads();
    const int64_t begin = n * k / t, end = n * (k + 1) / t;
    if (begin < end) f(begin, end);
  }
}

}  // namespace

const float* ActivationRow::group_sums() const {
  if (!has_sums_) {
    sums_.resize(cols_ / 32);
    GroupSums(x_, cols_, 32, sums_.data());
    has_sums_ = true;
  }
  return sums_.data();
}

const Int8Blocks& ActivationRow::int8() const {
  if (!has_int8_) {
    QuantizeActivations(x_, cols_, &int8_);
    has_int8_ = true;
  }
  return int8_;
}

size_t LinearWeight::bytes() const {
  return packed_ ? packed_->bytes() : static_cast<size_t>(dense_.numel()) * sizeof(float);
}

torch::Tensor LinearWeight::Apply(const torch::Tensor& x, const torch::Tensor& bias) const {
  if (!packed_) {
    // One row goes through a matrix-vector product: BLAS gemm packs the whole weight
    // matrix into a scratch buffer on every call, which for one row triples the memory
    // traffic of a product that is bound by it.
    if (x.dim() == 2 && x.size(0) == 1) {
      const torch::Tensor row = x.select(0, 0);
      return (bias.defined() ? torch::addmv(bias, dense_, row) : torch::mv(dense_, row))
          .unsqueeze(0);
    }
    return bias.defined() ? torch::linear(x, dense_, bias) : torch::linear(x, dense_);
  }
  if (x.requires_grad()) {
    throw std::invalid_argument(
        "a packed (quantized) weight is not differentiable: load the model with "
        "keep_quantized = false to train through it");
  }
  const PackedMatrix& m = *packed_;
  const torch::Tensor in = x.to(torch::kFloat32).contiguous();
  const int64_t t = in.size(0), rows = static_cast<int64_t>(m.rows());
  const size_t cols = m.cols();
  if (t == 1) {
    torch::Tensor y = torch::empty({1, rows}, torch::kFloat32);
    ApplyRow(ActivationRow(in.data_ptr<float>(), cols), y.data_ptr<float>(), bias);
    return y;
  }
  // y^T [rows, T] chunk by chunk: W[chunk] (dequantized into a reused buffer) times x^T,
  // written in place; one transposing copy at the end.
  const PackedKernels& kernels = BestPackedKernels();
  const int64_t chunk = std::min(static_cast<int64_t>(ChunkRows(cols)), rows);
  thread_local std::vector<float> scratch;
  scratch.resize(static_cast<size_t>(chunk) * cols);
  const torch::Tensor buffer =
      torch::from_blob(scratch.data(), {chunk, static_cast<int64_t>(cols)}, torch::kFloat32);
  const torch::Tensor in_t = in.t();
  torch::Tensor y_t = torch::empty({rows, t}, torch::kFloat32);
  for (int64_t begin = 0; begin < rows; begin += chunk) {
    const int64_t n = std::min(chunk, rows - begin);
    // On this thread: OpenMP workers spinning here would take the cores from the
    // OpenBLAS threads of the product that follows.
    kernels.dequantize(m.view(), static_cast<size_t>(begin), static_cast<size_t>(begin + n),
                       scratch.data());
    torch::Tensor out = y_t.narrow(0, begin, n);
    torch::mm_out(out, buffer.narrow(0, 0, n), in_t);
  }
  const torch::Tensor y = y_t.t().contiguous();
  return bias.defined() ? y + bias : y;
}

void LinearWeight::ApplyRow(const ActivationRow& x, float* y, const torch::Tensor& bias) const {
  ApplyRows(x, {{this, y, &bias}});
}

void LinearWeight::ApplyDenseRow(const ActivationRow& x, float* y,
                                 const torch::Tensor& bias) const {
  const int64_t in = static_cast<int64_t>(x.cols());
  torch::Tensor out = torch::from_blob(y, {dense_.size(0)}, torch::kFloat32);
  const torch::Tensor row = torch::from_blob(const_cast<float*>(x.data()), {in}, torch::kFloat32);
  if (bias.defined()) {
    torch::addmv_out(out, bias, dense_, row);
  } else {
    torch::mv_out(out, dense_, row);
  }
}

void LinearWeight::ApplyRows(const ActivationRow& x, std::initializer_list<RowProduct> products) {
  // The packed products as one matrix of `total` rows: part i holds rows [first, first +
  // view.rows) of it.
  struct Part {
    PackedView view;
    bool int8_activations;
    float* y;
    int64_t first;
  };
  std::vector<Part> parts;
  parts.reserve(products.size());
  int64_t total = 0;
  bool any_int4 = false, any_int8_activations = false;
  for (const RowProduct& p : products) {
    const LinearWeight& w = *p.weight;
    if (!w.packed_) {
      w.ApplyDenseRow(x, p.y, p.bias != nullptr ? *p.bias : torch::Tensor());
      continue;
    }
    // Int8 activations serve the integer layouts; 16-bit weights multiply the floats.
    const bool int8 = w.int8_activations_ && !IsHalfLayout(w.packed_->layout());
    parts.push_back({w.packed_->view(), int8, p.y, total});
    total += static_cast<int64_t>(w.packed_->rows());
    any_int4 |= w.packed_->layout() == PackedMatrix::Layout::kInt4;
    any_int8_activations |= int8;
  }
  if (parts.empty()) return;
  // Prepared here: ActivationRow computes on first use and is not thread-safe.
  const float* sums = any_int4 ? x.group_sums() : nullptr;
  const Int8Blocks* q = any_int8_activations ? &x.int8() : nullptr;
  const PackedKernels& kernels = BestPackedKernels();
  ParallelRows(total, kGemvGrain, [&](int64_t begin, int64_t end) {
    for (const Part& part : parts) {
      const int64_t rows = static_cast<int64_t>(part.view.rows);
      const int64_t lo = std::max(begin, part.first), hi = std::min(end, part.first + rows);
      if (lo >= hi) continue;
      const auto b = static_cast<size_t>(lo - part.first), e = static_cast<size_t>(hi - part.first);
      if (part.int8_activations) {
        kernels.gemv_int8(part.view, q->q.data(), q->scales.data(), sums, part.y + b, b, e);
      } else {
        kernels.gemv(part.view, x.data(), sums, part.y + b, b, e);
      }
    }
  });
  for (const RowProduct& p : products) {
    if (!p.weight->packed_ || p.bias == nullptr || !p.bias->defined()) continue;
    const float* bp = p.bias->data_ptr<float>();
    for (size_t r = 0; r < p.weight->packed_->rows(); ++r) p.y[r] += bp[r];
  }
}

torch::Tensor LinearWeight::Rows(const torch::Tensor& ids) const {
  if (!packed_) return dense_.index_select(0, ids.to(dense_.device()));
  const torch::Tensor list = ids.to(torch::kCPU, torch::kInt64).contiguous();
  const int64_t n = list.numel(), cols = static_cast<int64_t>(packed_->cols());
  torch::Tensor out = torch::empty({n, cols}, torch::kFloat32);
  const PackedKernels& kernels = BestPackedKernels();
  const int64_t* idp = list.data_ptr<int64_t>();
  const PackedView v = packed_->view();
  for (int64_t i = 0; i < n; ++i) {
    const auto r = static_cast<size_t>(idp[i]);
    kernels.dequantize(v, r, r + 1, out.data_ptr<float>() + i * cols);
  }
  return out;
}

}  // namespace latentbus::agent::llm
