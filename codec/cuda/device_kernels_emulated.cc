// The device codec's kernels, compiled by the host compiler against the CPU stand-in for
// CUDA (emulated_runtime.h; the target defines LATENTBUS_CUDA_EMULATED): the same source
// as the device build, run in every build by codec_cuda_emulated_test.
#include "codec/cuda/device_kernels.cu"
