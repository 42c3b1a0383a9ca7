// The rotation's row transform with AVX-512 F (the shared schedule in rotation_rows.inc on
// 16-float registers, 16 of the 32 registers a pass). This file is compiled with the
// AVX-512 flags and -ffp-contract=off and only called after a run-time CPU check
// (kernels.cc); the results equal the reference's (rotation_scalar.cc) bit for bit.
#include <immintrin.h>

#include <utility>

#include "codec/rotation_kernels.h"

namespace latentbus::codec::internal {
namespace {

struct Vec {
  using T = __m512;
  static constexpr size_t kLanes = 16;
  static constexpr int kMaxCount = 16;    // 16 registers a pass: stages h = 1 .. 128
  static constexpr size_t kMaxTile = 24;  // accumulators + input + coefficients in 32
  static T Load(const float* p) { return _mm512_loadu_ps(p); }
  static void Store(float* p, T v) { _mm512_storeu_ps(p, v); }
  static T Add(T a, T b) { return _mm512_add_ps(a, b); }
  static T Mul(T a, T b) { return _mm512_mul_ps(a, b); }
  static T Zero() { return _mm512_setzero_ps(); }
  static T Broadcast(const float* p) { return _mm512_set1_ps(*p); }
  // A plain subtraction: on Zen 5 the in-register stages keep the FMA units busy (moving
  // the differences there too, as the AVX2 build does, measured 10% slower).
  static T MinusPlus(T b, T a) { return _mm512_sub_ps(a, b); }
  // x * +-1 + y is exact up to its one rounding, so it equals y + x or y - x.
  static T InRegisterStages(T x) {
    const T s1 = _mm512_setr_ps(1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1);
    const T s2 = _mm512_setr_ps(1, 1, -1, -1, 1, 1, -1, -1, 1, 1, -1, -1, 1, 1, -1, -1);
    const T s4 = _mm512_setr_ps(1, 1, 1, 1, -1, -1, -1, -1, 1, 1, 1, 1, -1, -1, -1, -1);
    const T s8 = _mm512_setr_ps(1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1, -1);
    x = _mm512_fmadd_ps(x, s1, _mm512_permute_ps(x, 0xb1));
    x = _mm512_fmadd_ps(x, s2, _mm512_permute_ps(x, 0x4e));
    x = _mm512_fmadd_ps(x, s4, _mm512_shuffle_f32x4(x, x, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm512_fmadd_ps(x, s8, _mm512_shuffle_f32x4(x, x, _MM_SHUFFLE(1, 0, 3, 2)));
  }
};

#include "codec/rotation_rows.inc"

}  // namespace

void RotateRowsAvx512(const RotationPlan& plan, const float* in, float* out, size_t rows,
                      bool inverse) {
  RotateRowsWith<Vec>(plan, in, out, rows, inverse, RotateRowsAvx2);
}

}  // namespace latentbus::codec::internal
