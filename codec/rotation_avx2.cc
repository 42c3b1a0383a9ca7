// The rotation's row transform with AVX2 and FMA (the shared schedule in rotation_rows.inc
// on 8-float registers). This file is compiled with -mavx2 -mfma -ffp-contract=off and
// only called after a run-time CPU check (kernels.cc); the results equal the reference's
// (rotation_scalar.cc) bit for bit.
#include <immintrin.h>

#include <utility>

#include "codec/rotation_kernels.h"

namespace latentbus::codec::internal {
namespace {

struct Vec {
  using T = __m256;
  static constexpr size_t kLanes = 8;
  static constexpr int kMaxCount = 8;     // 8 registers a pass: stages h = 1 .. 32
  static constexpr size_t kMaxTile = 12;  // accumulators + input + coefficient in 16 registers
  static T Load(const float* p) { return _mm256_loadu_ps(p); }
  static void Store(float* p, T v) { _mm256_storeu_ps(p, v); }
  static T Add(T a, T b) { return _mm256_add_ps(a, b); }
  static T Mul(T a, T b) { return _mm256_mul_ps(a, b); }
  static T Zero() { return _mm256_setzero_ps(); }
  static T Broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static T MinusPlus(T b, T a) { return _mm256_fmadd_ps(b, _mm256_set1_ps(-1.0f), a); }
  // x * +-1 + y is exact up to its one rounding, so it equals y + x or y - x.
  static T InRegisterStages(T x) {
    const T s1 = _mm256_setr_ps(1, -1, 1, -1, 1, -1, 1, -1);
    const T s2 = _mm256_setr_ps(1, 1, -1, -1, 1, 1, -1, -1);
    const T s4 = _mm256_setr_ps(1, 1, 1, 1, -1, -1, -1, -1);
    x = _mm256_fmadd_ps(x, s1, _mm256_permute_ps(x, 0xb1));
    x = _mm256_fmadd_ps(x, s2, _mm256_permute_ps(x, 0x4e));
    return _mm256_fmadd_ps(x, s4, _mm256_permute2f128_ps(x, x, 1));
  }
};

#include "codec/rotation_rows.inc"

}  // namespace

void RotateRowsAvx2(const RotationPlan& plan, const float* in, float* out, size_t rows,
                    bool inverse) {
  RotateRowsWith<Vec>(plan, in, out, rows, inverse, RotateRowsScalar);
}

}  // namespace latentbus::codec::internal
