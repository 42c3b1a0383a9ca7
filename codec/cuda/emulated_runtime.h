// A CPU stand-in for the part of CUDA the device codec uses, so that its kernels and host
// side run, unchanged, in every build and in CI (target latentbus_codec_cuda_emulated,
// test codec_cuda_emulated_test), where no GPU is. Included through codec/cuda/runtime.h
// when LATENTBUS_CUDA_EMULATED is defined; compiled by the host compiler with
// -ffp-contract=off, so that a * b + c stays two roundings as on the device.
//
// What it models: device memory is host memory; streams run synchronously; a launch runs
// its kernel on a small grid (grid-stride loops cover the rest), one warp at a time, each
// warp as 32 host threads that meet at every shuffle, so warp-level code is exercised
// lane by lane; IEEE fp32 arithmetic with round-to-nearest-even. What it does not: the
// device's compiler, memory ordering between warps, timing, and CUDA's error cases
// (allocation aside, every call succeeds).
#ifndef LATENTBUS_CODEC_CUDA_EMULATED_RUNTIME_H_
#define LATENTBUS_CODEC_CUDA_EMULATED_RUNTIME_H_

#include <atomic>
#include <cfloat>
#include <cmath>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "codec/half.h"

#define __global__
#define __device__
#define __host__

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
};

enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInsufficientDriver = 35
};
enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
};
struct CUstream_st;
using cudaStream_t = CUstream_st*;
#define cudaStreamPerThread (reinterpret_cast<cudaStream_t>(0x2))

struct cudaDeviceProp {
  char name[256];
  int major;
  int minor;
  size_t totalGlobalMem;
};

namespace latentbus::codec::cuda::emulated {

// The lanes of one warp: a shuffle writes each lane's value, waits for all 32, reads.
class Warp {
 public:
  template <typename T>
  T Exchange(int lane, T value, int source) {
    static_assert(sizeof(T) <= sizeof(uint64_t));
    uint64_t bits = 0;
    std::memcpy(&bits, &value, sizeof(T));
    slots_[lane] = bits;
    Wait();
    const uint64_t got = slots_[source];
    Wait();
    T out;
    std::memcpy(&out, &got, sizeof(T));
    return out;
  }

 private:
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    const uint64_t generation = generation_;
    if (++arrived_ == 32) {
      arrived_ = 0;
      ++generation_;
      cv_.notify_all();
      return;
    }
    cv_.wait(lock, [&] { return generation_ != generation; });
  }

  std::mutex mu_;
  std::condition_variable cv_;
  int arrived_ = 0;
  uint64_t generation_ = 0;
  uint64_t slots_[32] = {};
};

struct ThreadContext {
  dim3 thread_idx, block_idx, block_dim, grid_dim;
  Warp* warp = nullptr;
};

inline ThreadContext& Current() {
  thread_local ThreadContext context;
  return context;
}

inline int Lane() { return static_cast<int>(Current().thread_idx.x % 32); }

// Runs `kernel` on up to 3 blocks of 64 threads (2 warps each): enough to exercise the
// grid-stride loops, the warp-level code and more than one block.
template <typename Kernel>
void Launch(unsigned blocks, const Kernel& kernel) {
  const unsigned grid = blocks < 3 ? blocks : 3;
  constexpr unsigned kBlock = 64;
  for (unsigned b = 0; b < grid; ++b) {
    for (unsigned w = 0; w < kBlock / 32; ++w) {
      Warp warp;
      std::vector<std::thread> lanes;
      for (unsigned lane = 0; lane < 32; ++lane) {
        lanes.emplace_back([&, lane] {
          ThreadContext& c = Current();
          c.thread_idx.x = w * 32 + lane;
          c.block_idx.x = b;
          c.block_dim.x = kBlock;
          c.grid_dim.x = grid;
          c.warp = &warp;
          kernel();
        });
      }
      for (std::thread& t : lanes) t.join();
    }
  }
}

}  // namespace latentbus::codec::cuda::emulated

#define threadIdx (::latentbus::codec::cuda::emulated::Current().thread_idx)
#define blockIdx (::latentbus::codec::cuda::emulated::Current().block_idx)
#define blockDim (::latentbus::codec::cuda::emulated::Current().block_dim)
#define gridDim (::latentbus::codec::cuda::emulated::Current().grid_dim)

// Device functions.
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline uint32_t __float_as_uint(float f) { return ::latentbus::codec::FloatBits(f); }
inline float __uint_as_float(uint32_t u) { return ::latentbus::codec::BitsToFloat(u); }
inline uint32_t max(uint32_t a, uint32_t b) { return a > b ? a : b; }
inline unsigned atomicOr(uint32_t* address, uint32_t value) {
  return __atomic_fetch_or(address, value, __ATOMIC_RELAXED);
}
template <typename T>
T __shfl_xor_sync(unsigned, T value, int lane_mask) {
  const int lane = ::latentbus::codec::cuda::emulated::Lane();
  return ::latentbus::codec::cuda::emulated::Current().warp->Exchange(lane, value,
                                                                      lane ^ lane_mask);
}
template <typename T>
T __shfl_down_sync(unsigned, T value, unsigned delta) {
  const int lane = ::latentbus::codec::cuda::emulated::Lane();
  const int source = lane + static_cast<int>(delta) < 32 ? lane + static_cast<int>(delta) : lane;
  return ::latentbus::codec::cuda::emulated::Current().warp->Exchange(lane, value, source);
}

// Runtime API: device memory is host memory, every stream is synchronous.
inline const char* cudaGetErrorString(cudaError_t e) {
  return e == cudaSuccess ? "no error" : "out of memory (emulated device)";
}
inline cudaError_t cudaGetLastError() { return cudaSuccess; }
inline cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}
inline cudaError_t cudaDriverGetVersion(int* version) {
  *version = 13000;
  return cudaSuccess;
}
inline cudaError_t cudaRuntimeGetVersion(int* version) {
  *version = 13000;
  return cudaSuccess;
}
inline cudaError_t cudaSetDevice(int) { return cudaSuccess; }
enum cudaDeviceAttr { cudaDevAttrMemoryPoolsSupported = 115 };
enum cudaMemPoolAttr { cudaMemPoolAttrReleaseThreshold = 4 };
struct CUmemPoolHandle_st;
using cudaMemPool_t = CUmemPoolHandle_st*;
// Reports pools as supported on even calls only, so both allocation paths run.
inline cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr, int) {
  static std::atomic<unsigned> calls{0};
  *value = calls++ % 2 == 0 ? 1 : 0;
  return cudaSuccess;
}
inline cudaError_t cudaDeviceGetDefaultMemPool(cudaMemPool_t* pool, int) {
  *pool = nullptr;
  return cudaSuccess;
}
inline cudaError_t cudaMemPoolSetAttribute(cudaMemPool_t, cudaMemPoolAttr, void*) {
  return cudaSuccess;
}
inline cudaError_t cudaGetDevice(int* device) {
  *device = 0;
  return cudaSuccess;
}
inline cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int) {
  std::memset(prop, 0, sizeof(*prop));
  std::strncpy(prop->name, "emulated device (CPU)", sizeof(prop->name) - 1);
  return cudaSuccess;
}
inline cudaError_t cudaMalloc(void** p, size_t bytes) {
  *p = std::malloc(bytes == 0 ? 1 : bytes);
  return *p != nullptr ? cudaSuccess : cudaErrorMemoryAllocation;
}
inline cudaError_t cudaMallocAsync(void** p, size_t bytes, cudaStream_t) {
  return cudaMalloc(p, bytes);
}
inline cudaError_t cudaFree(void* p) {
  std::free(p);
  return cudaSuccess;
}
inline cudaError_t cudaFreeAsync(void* p, cudaStream_t) { return cudaFree(p); }
inline cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind) {
  std::memmove(dst, src, bytes);
  return cudaSuccess;
}
inline cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind,
                                   cudaStream_t) {
  return cudaMemcpy(dst, src, bytes, kind);
}
inline cudaError_t cudaMemsetAsync(void* p, int value, size_t bytes, cudaStream_t) {
  std::memset(p, value, bytes);
  return cudaSuccess;
}
inline cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }

// kernel<<<blocks, threads, 0, stream>>>(args...) of device_kernels.cu.
#define LATENTBUS_LAUNCH(kernel, blocks, threads, stream, ...) \
  ::latentbus::codec::cuda::emulated::Launch((blocks), [&] { kernel(__VA_ARGS__); })

#endif  // LATENTBUS_CODEC_CUDA_EMULATED_RUNTIME_H_
