// The device codec's kernels: group quantization and dequantization (int8, int4) and the
// two randomized Hadamard rotations, written so that every element goes through the same
// fp32 operations, in the same order, as the CPU reference (codec/kernels_scalar.cc,
// codec/rotation_scalar.cc): multiplies and adds rounded separately (__fmul_rn, __fadd_rn;
// the target is also compiled with -fmad=false), divisions IEEE-rounded (__fdiv_rn),
// round-half-even with rintf, butterflies a + b and a - b in Sylvester stage order.
#include <cfloat>
#include <cstdint>

#include "codec/cuda/device_kernels.h"
#include "codec/cuda/runtime.h"

namespace latentbus::codec::cuda::internal {
namespace {

constexpr uint32_t kFullMask = 0xffffffffu;
constexpr uint32_t kNonFiniteAbsBits = 0x7f800000u;   // codec/half.h
constexpr uint32_t kQuantLimitAbsBits = 0x7b800000u;  // 2^120, codec/half.h
constexpr int kThreads = 256;
constexpr size_t kMaxBlocks = 8192;  // grid-stride loops cover the rest

unsigned Blocks(size_t work_items) {
  const size_t blocks = (work_items + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > kMaxBlocks ? kMaxBlocks : blocks));
}

cudaStream_t AsStream(void* stream) { return static_cast<cudaStream_t>(stream); }

__device__ size_t ThreadIndex() { return size_t{blockIdx.x} * blockDim.x + threadIdx.x; }
__device__ size_t ThreadCount() { return size_t{gridDim.x} * blockDim.x; }

// codec::internal::BlockAt.
__device__ size_t BlockAt(size_t width, size_t begin, size_t block) {
  const size_t rest = width - begin;
  if (rest >= block) return block;
  size_t b = 1;
  while (b * 2 <= rest) b *= 2;
  return b;
}

// ---- "+rot64": blocks of 64 channels, one warp per block ----------------------------

// Lane l holds channels l and l + 32 of one block. Stages h = 1..16 pair lanes l and
// l ^ h; stage 32 pairs the two values of a lane. The lower channel of a pair becomes
// a + b and the upper one a - b, as in the reference.
__device__ float Butterfly(float v, int lane, int h) {
  const float partner = __shfl_xor_sync(kFullMask, v, h);
  return (lane & h) ? __fsub_rn(partner, v) : __fadd_rn(v, partner);
}

__global__ void Rotate64Kernel(const float* in, float* out, const float* signs, size_t width,
                               size_t rows, bool inverse) {
  const size_t blocks_per_row = width / 64;
  const size_t warps = rows * blocks_per_row;
  const int lane = threadIdx.x & 31;
  for (size_t w = ThreadIndex() / 32; w < warps; w += ThreadCount() / 32) {
    const size_t row = w / blocks_per_row;
    const size_t channel = (w % blocks_per_row) * 64 + lane;
    const size_t at = row * width + channel;
    float lo = in[at];
    float hi = in[at + 32];
    if (!inverse) {
      lo = __fmul_rn(lo, signs[channel]);
      hi = __fmul_rn(hi, signs[channel + 32]);
    }
    for (int h = 1; h < 32; h *= 2) {
      lo = Butterfly(lo, lane, h);
      hi = Butterfly(hi, lane, h);
    }
    const float a = lo;
    lo = __fadd_rn(a, hi);
    hi = __fsub_rn(a, hi);
    if (inverse) {
      lo = __fmul_rn(lo, signs[channel]);
      hi = __fmul_rn(hi, signs[channel + 32]);
    }
    out[at] = lo;
    out[at + 32] = hi;
  }
}

// In-place unnormalised Walsh-Hadamard transform of n = 2^k floats (one thread).
__device__ void Fwht(float* v, size_t n) {
  for (size_t h = 1; h < n; h *= 2) {
    for (size_t i = 0; i < n; i += 2 * h) {
      for (size_t j = i; j < i + h; ++j) {
        const float a = v[j];
        const float b = v[j + h];
        v[j] = __fadd_rn(a, b);
        v[j + h] = __fsub_rn(a, b);
      }
    }
  }
}

// The blocks of fewer than 64 channels at the end of each row (width mod 64 channels,
// at most 6 blocks): one thread per row and block.
__global__ void Rotate64TailKernel(const float* in, float* out, const float* signs, size_t width,
                                   size_t rows, size_t tail_blocks, bool inverse) {
  const size_t full = width / 64 * 64;
  for (size_t t = ThreadIndex(); t < rows * tail_blocks; t += ThreadCount()) {
    const size_t row = t / tail_blocks;
    size_t begin = full;
    size_t len = BlockAt(width, begin, 64);
    for (size_t k = 0; k < t % tail_blocks; ++k) {
      begin += len;
      len = BlockAt(width, begin, 64);
    }
    const float* x = in + row * width;
    float* y = out + row * width;
    if (!inverse) {
      for (size_t i = begin; i < begin + len; ++i) y[i] = __fmul_rn(x[i], signs[i]);
      Fwht(y + begin, len);
    } else {
      for (size_t i = begin; i < begin + len; ++i) y[i] = x[i];
      Fwht(y + begin, len);
      for (size_t i = begin; i < begin + len; ++i) y[i] = __fmul_rn(y[i], signs[i]);
    }
  }
}

// ---- "+rot": the whole row, Hadamard over each power-of-two segment, then the DCT ----

__global__ void SignsKernel(const float* in, float* out, const float* signs, size_t width,
                            size_t n) {
  for (size_t i = ThreadIndex(); i < n; i += ThreadCount()) {
    out[i] = __fmul_rn(in[i], signs[i % width]);
  }
}

// One stage (distance h) of the transform on every segment of `pow2` floats.
__global__ void FwhtStageKernel(float* v, size_t n, size_t pow2, size_t h) {
  const size_t half = pow2 / 2;
  for (size_t t = ThreadIndex(); t < n / 2; t += ThreadCount()) {
    const size_t u = t % half;
    const size_t j = (t / half) * pow2 + (u / h) * 2 * h + u % h;
    const float a = v[j];
    const float b = v[j + h];
    v[j] = __fadd_rn(a, b);
    v[j + h] = __fsub_rn(a, b);
  }
}

// out segment k of a row = sum over m of c(k, m) * in segment m, summed from zero in
// order of m (transpose: c(m, k)).
__global__ void MixKernel(const float* in, float* out, const float* dct, size_t odd, size_t len,
                          size_t n, bool transpose) {
  const size_t width = odd * len;
  for (size_t e = ThreadIndex(); e < n; e += ThreadCount()) {
    const size_t row_start = e / width * width;
    const size_t k = e % width / len;
    const size_t j = e % len;
    float acc = 0.0f;
    for (size_t m = 0; m < odd; ++m) {
      const float w = transpose ? dct[m * odd + k] : dct[k * odd + m];
      acc = __fadd_rn(acc, __fmul_rn(w, in[row_start + m * len + j]));
    }
    out[e] = acc;
  }
}

// ---- quantization: one warp per group -----------------------------------------------

__global__ void QuantizeKernel(const float* x, size_t n, uint32_t group, int qmax, float* scales,
                               int8_t* q8, uint8_t* q4, uint32_t* error) {
  const size_t groups = (n + group - 1) / group;
  const int lane = threadIdx.x & 31;
  const float q = static_cast<float>(qmax);
  for (size_t g = ThreadIndex() / 32; g < groups; g += ThreadCount() / 32) {
    const size_t start = g * group;
    const size_t len = n - start < group ? n - start : group;
    uint32_t max_abs = 0;
    for (size_t k = lane; k < len; k += 32) {
      max_abs = max(max_abs, __float_as_uint(x[start + k]) & 0x7fffffffu);
    }
    for (int offset = 16; offset > 0; offset /= 2) {
      max_abs = max(max_abs, __shfl_xor_sync(kFullMask, max_abs, offset));
    }
    if (max_abs >= kQuantLimitAbsBits) {  // the whole warp agrees
      if (lane == 0) atomicOr(error, 1u);
      continue;
    }
    const float absmax = __uint_as_float(max_abs);
    const float q_over_max = absmax > 0.0f ? __fdiv_rn(q, absmax) : 0.0f;
    // Below about qmax / FLT_MAX the multiplier overflows; such a group quantizes to zeros.
    const float inv = q_over_max <= FLT_MAX ? q_over_max : 0.0f;
    if (lane == 0) scales[g] = __fdiv_rn(absmax, q);
    for (size_t base = 0; base < group; base += 32) {  // the same trip count on every lane
      const size_t k = base + lane;
      int v = 0;
      if (k < len) {
        const float r = rintf(__fmul_rn(x[start + k], inv));
        v = static_cast<int>(fminf(fmaxf(r, -q), q));
      }
      if (q8 != nullptr) {
        if (k < len) q8[start + k] = static_cast<int8_t>(v);
      } else {
        // Groups start on even elements; the odd neighbour's nibble comes from lane + 1.
        const uint32_t nib = k < len ? static_cast<uint32_t>(v + 8) : 0u;
        const uint32_t high = __shfl_down_sync(kFullMask, nib, 1);
        if (k < len && k % 2 == 0) q4[(start + k) / 2] = static_cast<uint8_t>(nib | (high << 4));
      }
    }
  }
}

__global__ void DequantizeInt8Kernel(const int8_t* q, const float* scales, size_t n, uint32_t group,
                                     float* out) {
  for (size_t i = ThreadIndex(); i < n; i += ThreadCount()) {
    out[i] = __fmul_rn(static_cast<float>(q[i]), scales[i / group]);
  }
}

__global__ void DequantizeInt4Kernel(const uint8_t* packed, const float* scales, size_t n,
                                     uint32_t group, float* out) {
  for (size_t i = ThreadIndex(); i < n; i += ThreadCount()) {
    const int nib = (i % 2 == 0) ? (packed[i / 2] & 0x0f) : (packed[i / 2] >> 4);
    out[i] = __fmul_rn(static_cast<float>(nib - 8), scales[i / group]);
  }
}

__global__ void CheckFiniteKernel(const float* x, size_t n, uint32_t* error) {
  for (size_t i = ThreadIndex(); i < n; i += ThreadCount()) {
    if ((__float_as_uint(x[i]) & 0x7fffffffu) >= kNonFiniteAbsBits) atomicOr(error, 1u);
  }
}

int LastError() { return static_cast<int>(cudaGetLastError()); }

}  // namespace

int LaunchRotate(const DeviceRotationPlan& plan, const float* in, float* out, float* scratch,
                 size_t rows, bool inverse, void* stream) {
  cudaGetLastError();  // an earlier call's error is not this launch's
  const cudaStream_t s = AsStream(stream);
  const size_t width = plan.width;
  const size_t n = rows * width;
  if (n == 0) return 0;
  if (plan.block != 0) {
    const size_t full_blocks = rows * (width / 64);
    if (full_blocks > 0) {
      LATENTBUS_LAUNCH(Rotate64Kernel, Blocks(full_blocks * 32), kThreads, s, in, out, plan.signs,
                       width, rows, inverse);
    }
    size_t tail_blocks = 0;
    for (size_t rest = width % 64; rest != 0; rest &= rest - 1) ++tail_blocks;
    if (tail_blocks > 0) {
      LATENTBUS_LAUNCH(Rotate64TailKernel, Blocks(rows * tail_blocks), kThreads, s, in, out,
                       plan.signs, width, rows, tail_blocks, inverse);
    }
    return LastError();
  }
  const auto stages = [&](float* v) {
    for (size_t h = 1; h < plan.pow2; h *= 2) {
      LATENTBUS_LAUNCH(FwhtStageKernel, Blocks(n / 2), kThreads, s, v, n, plan.pow2, h);
    }
  };
  const size_t bytes = n * sizeof(float);
  if (!inverse) {
    LATENTBUS_LAUNCH(SignsKernel, Blocks(n), kThreads, s, in, out, plan.signs, width, n);
    stages(out);
    if (plan.odd > 1) {
      LATENTBUS_LAUNCH(MixKernel, Blocks(n), kThreads, s, out, scratch, plan.dct, plan.odd,
                       plan.pow2, n,
                       /*transpose=*/false);
      if (int e = LastError(); e != 0) return e;
      if (cudaError_t e = cudaMemcpyAsync(out, scratch, bytes, cudaMemcpyDeviceToDevice, s);
          e != cudaSuccess) {
        return static_cast<int>(e);
      }
    }
    return LastError();
  }
  if (plan.odd > 1) {
    LATENTBUS_LAUNCH(MixKernel, Blocks(n), kThreads, s, in, scratch, plan.dct, plan.odd, plan.pow2,
                     n,
                     /*transpose=*/true);
    if (int e = LastError(); e != 0) return e;
    in = scratch;
  }
  if (in != out) {
    if (cudaError_t e = cudaMemcpyAsync(out, in, bytes, cudaMemcpyDeviceToDevice, s);
        e != cudaSuccess) {
      return static_cast<int>(e);
    }
  }
  stages(out);
  LATENTBUS_LAUNCH(SignsKernel, Blocks(n), kThreads, s, out, out, plan.signs, width, n);
  return LastError();
}

int LaunchQuantize(const float* x, size_t n, uint32_t group, int qmax, float* scales, void* q,
                   uint32_t* error, void* stream) {
  cudaGetLastError();  // an earlier call's error is not this launch's
  if (n == 0) return 0;
  const size_t groups = (n + group - 1) / group;
  int8_t* q8 = qmax == 127 ? static_cast<int8_t*>(q) : nullptr;
  uint8_t* q4 = qmax == 127 ? nullptr : static_cast<uint8_t*>(q);
  LATENTBUS_LAUNCH(QuantizeKernel, Blocks(groups * 32), kThreads, AsStream(stream), x, n, group,
                   qmax, scales, q8, q4, error);
  return LastError();
}

int LaunchDequantize(const void* q, const float* scales, size_t n, uint32_t group, int qmax,
                     float* out, void* stream) {
  cudaGetLastError();  // an earlier call's error is not this launch's
  if (n == 0) return 0;
  if (qmax == 127) {
    LATENTBUS_LAUNCH(DequantizeInt8Kernel, Blocks(n), kThreads, AsStream(stream),
                     static_cast<const int8_t*>(q), scales, n, group, out);
  } else {
    LATENTBUS_LAUNCH(DequantizeInt4Kernel, Blocks(n), kThreads, AsStream(stream),
                     static_cast<const uint8_t*>(q), scales, n, group, out);
  }
  return LastError();
}

int LaunchCheckFinite(const float* x, size_t n, uint32_t* error, void* stream) {
  cudaGetLastError();  // an earlier call's error is not this launch's
  if (n == 0) return 0;
  LATENTBUS_LAUNCH(CheckFiniteKernel, Blocks(n), kThreads, AsStream(stream), x, n, error);
  return LastError();
}

}  // namespace latentbus::codec::cuda::internal
