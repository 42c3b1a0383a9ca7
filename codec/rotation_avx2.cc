// The rotation's row transform with AVX2 and FMA. This file is compiled with -mavx2 -mfma
// -ffp-contract=off and only called after a run-time CPU check (kernels.cc). Every element
// sees the operations of the reference (rotation_scalar.cc) in the same order, so the
// results are bit-identical; what changes is how they are scheduled:
//   - the signs are applied while loading (forward) or storing (inverse), not in a pass of
//     their own;
//   - the first three Hadamard stages run inside one register and the next three across
//     eight registers in the same pass, the later ones three at a time on eight
//     registers, so a 4096-wide row costs three passes over L1 instead of twelve (and
//     the 64-wide blocks of a 576-wide row one);
//   - rows wider than kBlock floats run all their short stages block by block while the
//     block is in L1, then the long stages across the row;
//   - the DCT over the odd factor keeps up to 12 output blocks in registers per 8 columns
//     and streams the input blocks past them.
#include <immintrin.h>

#include <algorithm>
#include <utility>

#include "codec/rotation_kernels.h"

namespace latentbus::codec::internal {
namespace {

// Floats per block of the Hadamard transform's short stages: 16 KiB, half of L1.
constexpr size_t kBlock = 4096;

// a + b and a - b. The difference goes to the FMA units (b * -1 + a has one rounding,
// like a - b) so that the adder and the multiplier ports share the work.
inline void Butterfly(__m256& a, __m256& b) {
  const __m256 sum = _mm256_add_ps(a, b);
  b = _mm256_fmadd_ps(b, _mm256_set1_ps(-1.0f), a);
  a = sum;
}

// Stages h = 1, 2, 4 of the 8 floats in x, in the register (x * +-1 + y is exact up to
// its one rounding, so it equals y + x or y - x).
inline __m256 InRegisterStages(__m256 x) {
  const __m256 s1 = _mm256_setr_ps(1, -1, 1, -1, 1, -1, 1, -1);
  const __m256 s2 = _mm256_setr_ps(1, 1, -1, -1, 1, 1, -1, -1);
  const __m256 s4 = _mm256_setr_ps(1, 1, 1, 1, -1, -1, -1, -1);
  x = _mm256_fmadd_ps(x, s1, _mm256_permute_ps(x, 0xb1));
  x = _mm256_fmadd_ps(x, s2, _mm256_permute_ps(x, 0x4e));
  return _mm256_fmadd_ps(x, s4, _mm256_permute2f128_ps(x, x, 1));
}

// Stages h = 1, 2, ..., 4 * kCount of [in, in + n) into out, kCount vectors (8 * kCount
// floats) at a time: the first three stages inside each register, the next log2(kCount)
// across them. `pre` multiplies the input first, `post` the result last; either may be
// null.
template <int kCount, bool kPre, bool kPost>
void FirstStages(const float* in, float* out, size_t n, const float* pre, const float* post) {
  for (size_t base = 0; base < n; base += 8 * kCount) {
    __m256 r[kCount];
    for (int t = 0; t < kCount; ++t) {
      __m256 x = _mm256_loadu_ps(in + base + 8 * t);
      if constexpr (kPre) x = _mm256_mul_ps(x, _mm256_loadu_ps(pre + base + 8 * t));
      r[t] = InRegisterStages(x);
    }
    for (int step = 1; step < kCount; step *= 2) {
      for (int t = 0; t < kCount; ++t) {
        if ((t & step) == 0) Butterfly(r[t], r[t + step]);
      }
    }
    for (int t = 0; t < kCount; ++t) {
      if constexpr (kPost) r[t] = _mm256_mul_ps(r[t], _mm256_loadu_ps(post + base + 8 * t));
      _mm256_storeu_ps(out + base + 8 * t, r[t]);
    }
  }
}

template <int kCount>
void FirstStagesWith(const float* in, float* out, size_t n, const float* pre, const float* post) {
  if (pre != nullptr) {
    post != nullptr ? FirstStages<kCount, true, true>(in, out, n, pre, post)
                    : FirstStages<kCount, true, false>(in, out, n, pre, nullptr);
  } else {
    post != nullptr ? FirstStages<kCount, false, true>(in, out, n, nullptr, post)
                    : FirstStages<kCount, false, false>(in, out, n, nullptr, nullptr);
  }
}

// The first min(n, 64) / 8 * 8 floats' worth of stages (h = 1 up to min(n, 64) / 2)
// of [in, in + n), n = 2^k >= 8; returns the first stage left to do.
size_t FirstPass(const float* in, float* out, size_t n, const float* pre, const float* post) {
  switch (std::min<size_t>(n, 64)) {
    case 8:
      FirstStagesWith<1>(in, out, n, pre, post);
      return 8;
    case 16:
      FirstStagesWith<2>(in, out, n, pre, post);
      return 16;
    case 32:
      FirstStagesWith<4>(in, out, n, pre, post);
      return 32;
    default:
      FirstStagesWith<8>(in, out, n, pre, post);
      return 64;
  }
}

// Stages h, 2h, ..., 2^(S-1) h of [v, v + n) in place: 2^S vectors at stride h stay in
// registers, so S stages cost one pass. With kPost the results are multiplied by
// post[index] before they are stored.
template <int S, bool kPost>
void LaterStages(float* v, size_t n, size_t h, const float* post) {
  constexpr int kCount = 1 << S;
  const size_t span = h << S;
  for (size_t base = 0; base < n; base += span) {
    for (size_t j = base; j < base + h; j += 8) {
      __m256 r[kCount];
      for (int t = 0; t < kCount; ++t) r[t] = _mm256_loadu_ps(v + j + t * h);
      for (int step = 1; step < kCount; step *= 2) {
        for (int t = 0; t < kCount; ++t) {
          if ((t & step) == 0) Butterfly(r[t], r[t + step]);
        }
      }
      for (int t = 0; t < kCount; ++t) {
        if constexpr (kPost) r[t] = _mm256_mul_ps(r[t], _mm256_loadu_ps(post + j + t * h));
        _mm256_storeu_ps(v + j + t * h, r[t]);
      }
    }
  }
}

// Stages h_begin <= h < h_end of [v, v + n), three at a time where possible; the last
// pass applies `post` when it is not null.
void StageRange(float* v, size_t n, size_t h_begin, size_t h_end, const float* post) {
  for (size_t h = h_begin; h < h_end;) {
    const int s = h * 8 <= h_end ? 3 : (h * 4 <= h_end ? 2 : 1);
    const size_t next = h << s;
    const bool last = post != nullptr && next >= h_end;
    switch (s * 2 + (last ? 1 : 0)) {
      case 2:
        LaterStages<1, false>(v, n, h, post);
        break;
      case 3:
        LaterStages<1, true>(v, n, h, post);
        break;
      case 4:
        LaterStages<2, false>(v, n, h, post);
        break;
      case 5:
        LaterStages<2, true>(v, n, h, post);
        break;
      case 6:
        LaterStages<3, false>(v, n, h, post);
        break;
      default:
        LaterStages<3, true>(v, n, h, post);
        break;
    }
    h = next;
  }
}

// out = post * H (pre * in) for n = 2^k >= 8 floats (H the unnormalised Walsh-Hadamard
// transform); pre and post may be null, in may equal out.
void Fwht(const float* in, float* out, size_t n, const float* pre, const float* post) {
  const size_t block = std::min(n, kBlock);
  const size_t first = std::min<size_t>(n, 64);
  // The multiplication by `post` belongs to whichever pass comes last.
  const float* post_first = n == first ? post : nullptr;
  const float* post_block = n == block ? post : nullptr;
  const auto at = [](const float* p, size_t i) { return p != nullptr ? p + i : nullptr; };
  for (size_t b = 0; b < n; b += block) {
    const size_t h = FirstPass(in + b, out + b, block, at(pre, b), at(post_first, b));
    StageRange(out + b, block, h, block, at(post_block, b));
  }
  if (block < n) StageRange(out, n, block, n, post);
}

// K output blocks starting at k0 of the DCT mix, 8 columns at a time: out block k =
// sum over n of c(k, n) * in block n, accumulated from zero in order of n, each term a
// multiply then an add.
template <int K>
void MixTile(const float* in, float* out, size_t odd, size_t len, const float* c, size_t k0,
             bool transpose) {
  // Coefficient (k0 + t, n) sits at c[row * odd + col] with stride `ks` along t and `ns`
  // along n.
  const size_t ks = transpose ? 1 : odd;
  const size_t ns = transpose ? odd : 1;
  const float* ck = c + k0 * ks;
  for (size_t j = 0; j < len; j += 8) {
    __m256 acc[K];
    for (int t = 0; t < K; ++t) acc[t] = _mm256_setzero_ps();
    for (size_t n = 0; n < odd; ++n) {
      const __m256 x = _mm256_loadu_ps(in + n * len + j);
      const float* cn = ck + n * ns;
      for (int t = 0; t < K; ++t) {
        const __m256 term = _mm256_mul_ps(_mm256_broadcast_ss(cn + t * ks), x);
        acc[t] = _mm256_add_ps(acc[t], term);
      }
    }
    for (int t = 0; t < K; ++t) _mm256_storeu_ps(out + (k0 + t) * len + j, acc[t]);
  }
}

constexpr size_t kMaxTile = 12;  // accumulators + input + coefficient fit 16 registers

template <size_t... Ks>
void MixTileOfSize(size_t k, const float* in, float* out, size_t odd, size_t len, const float* c,
                   size_t k0, bool transpose, std::index_sequence<Ks...>) {
  // Calls MixTile<k> for the run-time k in 1..kMaxTile.
  ((k == Ks + 1 ? MixTile<Ks + 1>(in, out, odd, len, c, k0, transpose) : void()), ...);
}

// out = C in (or C^T in) over blocks of len floats (len % 8 == 0), in tiles of nearly
// equal size.
void Mix(const float* in, float* out, size_t odd, size_t len, const float* c, bool transpose) {
  const size_t tiles = (odd + kMaxTile - 1) / kMaxTile;
  size_t k0 = 0;
  for (size_t t = 0; t < tiles; ++t) {
    const size_t k = (odd - k0) / (tiles - t);
    MixTileOfSize(k, in, out, odd, len, c, k0, transpose, std::make_index_sequence<kMaxTile>());
    k0 += k;
  }
}

}  // namespace

void RotateRowsAvx2(const RotationPlan& plan, const float* in, float* out, size_t rows,
                    bool inverse) {
  if (plan.pow2 < 8) return RotateRowsScalar(plan, in, out, rows, inverse);
  const size_t width = plan.width;
  const size_t pow2 = plan.pow2;
  const size_t odd = plan.odd;
  float* tmp = odd > 1 ? RotationScratch(width) : nullptr;
  for (size_t r = 0; r < rows; ++r) {
    const float* x = in + r * width;
    float* y = out + r * width;
    if (odd == 1) {
      inverse ? Fwht(x, y, pow2, nullptr, plan.signs) : Fwht(x, y, pow2, plan.signs, nullptr);
    } else if (!inverse) {
      for (size_t b = 0; b < width; b += pow2) Fwht(x + b, tmp + b, pow2, plan.signs + b, nullptr);
      Mix(tmp, y, odd, pow2, plan.dct, /*transpose=*/false);
    } else {
      Mix(x, tmp, odd, pow2, plan.dct, /*transpose=*/true);
      for (size_t b = 0; b < width; b += pow2) Fwht(tmp + b, y + b, pow2, nullptr, plan.signs + b);
    }
  }
}

}  // namespace latentbus::codec::internal
