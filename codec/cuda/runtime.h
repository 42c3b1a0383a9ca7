// The CUDA runtime and device language for the device codec: CUDA's own headers, or with
// LATENTBUS_CUDA_EMULATED the CPU stand-in (emulated_runtime.h) that runs the same code in
// builds without a GPU. LATENTBUS_LAUNCH(kernel, blocks, threads, stream, args...) is a
// kernel launch in either.
#ifndef LATENTBUS_CODEC_CUDA_RUNTIME_H_
#define LATENTBUS_CODEC_CUDA_RUNTIME_H_

#if defined(LATENTBUS_CUDA_EMULATED)
#include "codec/cuda/emulated_runtime.h"
#else
#include <cuda_runtime.h>
#define LATENTBUS_LAUNCH(kernel, blocks, threads, stream, ...) \
  kernel<<<(blocks), (threads), 0, (stream)>>>(__VA_ARGS__)
#endif

#endif  // LATENTBUS_CODEC_CUDA_RUNTIME_H_
