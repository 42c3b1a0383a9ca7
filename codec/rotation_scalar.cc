// The portable reference of the rotation's row transform, written as the definition in
// codec/rotation.h reads. Compiled with -ffp-contract=off: a fused multiply-add in the
// DCT would change the bits. Freestanding (no library calls; the emulated self-test,
// codec/rotation_selftest.cc, links it): RotationScratch lives in rotation_scratch.cc.
#include <cstddef>

#include "codec/rotation_kernels.h"

namespace latentbus::codec::internal {
namespace {

// In-place unnormalised Walsh-Hadamard transform of n = 2^k floats, stage by stage.
void Fwht(float* v, size_t n) {
  for (size_t h = 1; h < n; h *= 2) {
    for (size_t i = 0; i < n; i += 2 * h) {
      for (size_t j = i; j < i + h; ++j) {
        const float a = v[j];
        const float b = v[j + h];
        v[j] = a + b;
        v[j + h] = a - b;
      }
    }
  }
}

// out block k = sum over n of c(k, n) * in block n, blocks of `len` floats, summed in
// order of n starting from zero.
void Mix(const float* in, float* out, size_t odd, size_t len, const float* c, bool transpose) {
  for (size_t k = 0; k < odd; ++k) {
    float* o = out + k * len;
    for (size_t j = 0; j < len; ++j) o[j] = 0.0f;
    for (size_t n = 0; n < odd; ++n) {
      const float w = transpose ? c[n * odd + k] : c[k * odd + n];
      const float* x = in + n * len;
      for (size_t j = 0; j < len; ++j) o[j] += w * x[j];
    }
  }
}

void CopyFloats(const float* in, size_t n, float* out) {
  for (size_t i = 0; i < n; ++i) out[i] = in[i];
}

}  // namespace

void RotateBlockTailsScalar(const RotationPlan& plan, size_t begin, const float* in, float* out,
                            size_t rows, bool inverse) {
  const size_t width = plan.width;
  for (size_t r = 0; r < rows; ++r) {
    const float* x = in + r * width;
    float* y = out + r * width;
    for (size_t b = begin, len = 0; b < width; b += len) {
      len = BlockAt(width, b, plan.block);
      if (!inverse) {
        for (size_t i = b; i < b + len; ++i) y[i] = x[i] * plan.signs[i];
        Fwht(y + b, len);
      } else {
        if (x != y) CopyFloats(x + b, len, y + b);
        Fwht(y + b, len);
        for (size_t i = b; i < b + len; ++i) y[i] *= plan.signs[i];
      }
    }
  }
}

void RotateRowsScalar(const RotationPlan& plan, const float* in, float* out, size_t rows,
                      bool inverse) {
  if (plan.block != 0) return RotateBlockTailsScalar(plan, 0, in, out, rows, inverse);
  const size_t width = plan.width;
  const size_t pow2 = plan.pow2;
  const size_t odd = plan.odd;
  float* scratch = odd > 1 ? RotationScratch(width) : nullptr;
  for (size_t r = 0; r < rows; ++r) {
    const float* x = in + r * width;
    float* y = out + r * width;
    if (!inverse) {
      for (size_t i = 0; i < width; ++i) y[i] = x[i] * plan.signs[i];
      for (size_t b = 0; b < odd; ++b) Fwht(y + b * pow2, pow2);
      if (odd > 1) {
        Mix(y, scratch, odd, pow2, plan.dct, /*transpose=*/false);
        CopyFloats(scratch, width, y);
      }
    } else {
      if (odd > 1) {
        Mix(x, scratch, odd, pow2, plan.dct, /*transpose=*/true);
        CopyFloats(scratch, width, y);
      } else if (x != y) {
        CopyFloats(x, width, y);
      }
      for (size_t b = 0; b < odd; ++b) Fwht(y + b * pow2, pow2);
      for (size_t i = 0; i < width; ++i) y[i] *= plan.signs[i];
    }
  }
}

}  // namespace latentbus::codec::internal
