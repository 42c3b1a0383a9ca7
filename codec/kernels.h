// Element kernels behind the codec: quantize/dequantize and float conversions over
// flat arrays, and the rotation's row transform (codec/rotation.h). Three implementations exist,
// scalar (portable), AVX2 (x86-64 with AVX2+FMA+F16C) and AVX-512 (AVX2's float conversions,
// AVX-512 int8/int4 kernels and rotation); all produce bit-identical output for the same
// input, which the tests check. The choice is made once at run time (DefaultKernels).
//
// Quantization contract (shared with the Python SDK; see codec/packet.h):
//   groups of `group` consecutive elements (the last may be shorter);
//   absmax = max |x| in the group; scale = absmax / Q; inv = Q / absmax, or 0 where that
//   is not a finite float (absmax == 0, or below about Q / FLT_MAX: such groups quantize to
//   zeros) (both fp32 divisions); q = clamp(round_half_even(x * inv), -Q, Q), with Q = 127 for
//   int8 and Q = 7 for int4. int4 values are stored as q + 8 in a nibble, element 2i in the
//   low nibble of byte i and element 2i+1 in the high nibble (0 when absent).
//   Dequantization: x' = q * scale.
//
// Functions returning bool return false when the input holds a value that cannot be
// represented (NaN, infinity, beyond the fp16/bf16 range, or |x| >= 2^120 for the
// int types, which keeps every scale <= 2^120); outputs are then unspecified. All functions are
// thread-compatible (no shared state).
#ifndef LATENTBUS_CODEC_KERNELS_H_
#define LATENTBUS_CODEC_KERNELS_H_

#include <cstddef>
#include <cstdint>

#include "codec/cpu_features.h"

namespace latentbus::codec {

struct RotationPlan;  // codec/rotation_kernels.h

struct Kernels {
  const char* name;
  bool (*quantize_int8)(const float* x, size_t n, size_t group, float* scales, int8_t* q);
  bool (*quantize_int4)(const float* x, size_t n, size_t group, float* scales, uint8_t* packed);
  void (*dequantize_int8)(const int8_t* q, const float* scales, size_t n, size_t group, float* out);
  void (*dequantize_int4)(const uint8_t* packed, const float* scales, size_t n, size_t group,
                          float* out);
  bool (*float_to_fp16)(const float* x, size_t n, uint16_t* out);
  bool (*fp16_to_float)(const uint16_t* in, size_t n, float* out);
  bool (*float_to_bf16)(const float* x, size_t n, uint16_t* out);
  bool (*bf16_to_float)(const uint16_t* in, size_t n, float* out);
  // Copies n floats, failing on a non-finite one.
  bool (*copy_finite)(const float* in, size_t n, float* out);
  // Whether all n floats are finite (reads only).
  bool (*all_finite)(const float* x, size_t n);
  // Rotates (or with `inverse`, unrotates) `rows` rows of plan.width floats from `in`
  // into `out` (in == out allowed); see codec/rotation_kernels.h.
  void (*rotate_rows)(const RotationPlan& plan, const float* in, float* out, size_t rows,
                      bool inverse);
};

const Kernels& ScalarKernels();

// The AVX2 kernels, or nullptr when the build or the CPU lacks AVX2/FMA/F16C.
const Kernels* Avx2Kernels();

// The AVX-512 kernels, or nullptr when the build or the CPU lacks AVX-512 F/BW/DQ/VL (or
// what the AVX2 kernels need, whose float conversions it keeps).
const Kernels* Avx512Kernels();

// The vector table a CPU with these features runs best: "avx512" (AVX-512 F/BW/DQ/VL and
// the AVX2 set), "avx2", or "scalar". Freestanding (the emulated self-test reports it).
inline const char* BestKernelsName(const CpuFeatures& cpu) {
  if (cpu.avx2 && cpu.avx512) return "avx512";
  return cpu.avx2 ? "avx2" : "scalar";
}

// The kernels called `name` ("scalar", "avx2", "avx512") if this build and CPU run them,
// else nullptr.
const Kernels* KernelsNamed(const char* name);

// The fastest kernels this CPU runs: AVX-512, else AVX2, else scalar. The environment
// variable LATENTBUS_CODEC_KERNELS=scalar|avx2|avx512 picks one instead (read once); a
// name the CPU cannot run, or an unknown one, is reported on stderr once and ignored.
const Kernels& DefaultKernels();

}  // namespace latentbus::codec

#endif  // LATENTBUS_CODEC_KERNELS_H_
