// Run-time CPU feature checks for the codec's vector paths.
#ifndef LATENTBUS_CODEC_CPU_FEATURES_H_
#define LATENTBUS_CODEC_CPU_FEATURES_H_

namespace latentbus::codec {

// True when the CPU and the OS support AVX2, FMA and F16C (the set every vector
// path in the codec assumes). Computed once; thread-safe.
bool CpuHasAvx2();

}  // namespace latentbus::codec

#endif  // LATENTBUS_CODEC_CPU_FEATURES_H_
