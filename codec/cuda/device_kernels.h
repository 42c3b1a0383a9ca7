// The device codec's kernels (device_kernels.cu), declared with plain C++ types so that
// the host side (device_codec.cc) compiles without nvcc. Not part of the codec's API.
//
// Every kernel performs the fp32 operations of the CPU reference (codec/kernels.h,
// codec/rotation_kernels.h) on every element in the same order, each rounded on its own
// (no fused multiply-add, IEEE division), so the bytes match the CPU codec's.
//
// Launch functions enqueue on `stream` (a cudaStream_t) and return the launch's
// cudaError_t as an int (0: cudaSuccess). Pointers are device pointers.
#ifndef LATENTBUS_CODEC_CUDA_DEVICE_KERNELS_H_
#define LATENTBUS_CODEC_CUDA_DEVICE_KERNELS_H_

#include <cstddef>
#include <cstdint>

namespace latentbus::codec::cuda::internal {

// codec::RotationPlan with its tables in device memory.
struct DeviceRotationPlan {
  size_t width = 0;
  size_t pow2 = 0;               // kHadamard: the power-of-two factor of the width
  size_t odd = 0;                // kHadamard: the odd factor
  const float* signs = nullptr;  // width entries
  const float* dct = nullptr;    // odd x odd, row-major; null when odd == 1
  size_t block = 0;              // 64 for kHadamard64, 0 for kHadamard
};

// Rotates (or with `inverse`, unrotates) `rows` rows from `in` into `out` (in == out
// allowed). `scratch` holds rows * width floats when plan.odd > 1, else may be null.
int LaunchRotate(const DeviceRotationPlan& plan, const float* in, float* out, float* scratch,
                 size_t rows, bool inverse, void* stream);

// Quantizes n floats in groups of `group` (qmax 127: int8 into `q` as int8_t; qmax 7: int4
// packed two to a byte). Sets *error to 1 when a group holds a value that is not finite
// or has |x| >= 2^120 (that group's outputs are then unspecified).
int LaunchQuantize(const float* x, size_t n, uint32_t group, int qmax, float* scales, void* q,
                   uint32_t* error, void* stream);

// x' = q * scale for n elements (qmax 127: int8, qmax 7: packed int4).
int LaunchDequantize(const void* q, const float* scales, size_t n, uint32_t group, int qmax,
                     float* out, void* stream);

// Sets *error to 1 when one of the n floats is not finite.
int LaunchCheckFinite(const float* x, size_t n, uint32_t* error, void* stream);

}  // namespace latentbus::codec::cuda::internal

#endif  // LATENTBUS_CODEC_CUDA_DEVICE_KERNELS_H_
