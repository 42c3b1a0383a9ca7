// Which products a bridge translates with (BridgeOptions::kernels, bridge.h):
//
//   blas        float32 matrix products (libtorch on BLAS)
//   int8        int8 products (int8_bridge.h) on the fastest variant this CPU runs
//   scalar, avx2, avx2vnni, avx512, avx512vnni
//               int8 products on that variant (int8_matmul.h)
//   auto        the environment variable LATENTBUS_BRIDGE_KERNELS when set, else int8 where
//               the CPU has VNNI (one instruction per 4 multiply-adds per lane, four times
//               float32 FMA's rate) and blas elsewhere (with AVX2 alone int8 takes as many
//               instructions as float32 FMA: docs/BRIDGES.md). The broker's default.
//   ""          the environment variable when set, else blas: the library's default, so
//               fitting, training and their tests compute in float32 unless asked.
//
// Kinds without an int8 form (the resampler) always use blas: asked for int8 by name they
// are refused; under auto or the environment variable they fall back.
#ifndef LATENTBUS_BRIDGE_BRIDGE_KERNELS_H_
#define LATENTBUS_BRIDGE_BRIDGE_KERNELS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bridge/int8_matmul.h"
#include "codec/cpu_features.h"

namespace latentbus::bridge {

inline constexpr char kBridgeKernelsEnv[] = "LATENTBUS_BRIDGE_KERNELS";

// The names of the int8 variants `cpu` runs, slowest first.
std::vector<std::string> Int8VariantsThisCpuRuns(const codec::CpuFeatures& cpu);

// The int8 variant to use, or null for blas. `requested` as above; `env` the environment
// variable's value (null when unset); `has_int8_form` whether the kind has one.
// InvalidArgument for an unknown name or a variant `cpu` cannot run (naming what it can).
absl::StatusOr<const Int8MatmulKernels*> ResolveBridgeKernels(const std::string& requested,
                                                              const char* env, bool has_int8_form,
                                                              const codec::CpuFeatures& cpu);

}  // namespace latentbus::bridge

#endif  // LATENTBUS_BRIDGE_BRIDGE_KERNELS_H_
