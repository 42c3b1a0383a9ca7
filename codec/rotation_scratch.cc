// The rotation kernels' per-thread buffer (codec/rotation_kernels.h), apart from the
// kernels so that they stay freestanding (the emulated self-test supplies its own).
#include <vector>

#include "codec/rotation_kernels.h"

namespace latentbus::codec::internal {

float* RotationScratch(size_t floats) {
  thread_local std::vector<float> scratch;
  if (scratch.size() < floats) scratch.resize(floats);
  return scratch.data();
}

}  // namespace latentbus::codec::internal
