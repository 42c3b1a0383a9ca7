// The rotation kernels' self-test for emulated CPUs (tests/emulated/): a freestanding program
// (no C library, no heap) that runs every build of the rotation's row transform the CPU it
// runs on supports (scalar, avx2, avx512: codec/rotation_kernels.h) and checks it against the
// portable reference bit for bit, and reports which table the codec's run-time choice
// (BestKernelsName in codec/kernels.h) takes on that CPU. tests/emulated/kernels_test.py runs
// it on emulated CPUs with and without AVX2 and AVX-512.
//
// Cases: power-of-two widths from 1 to 8192 (below one register, one register, every
// number of in-register and across-register stages, rows longer than the kernels' L1
// block) and widths with an odd factor (3, 9, 63) times 1 to 8192; one to three rows;
// forward and inverse; out of place and in place. Block plans (+rot64) of widths 1 to 8192
// with every tail size. Signs and DCT coefficients are random
// floats: the kernels must give the reference's bits whatever the plan holds.
//
// Entry: latentbus_codec_rotation_selftest(input, input_bytes, report). It takes no input:
// input_bytes != 0 is reported as "bad input". Returns the failures.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>

#include "codec/cpu_features.h"
#include "codec/kernels.h"
#include "codec/rotation_kernels.h"
#include "tests/emulated/selftest.h"

namespace latentbus::codec {
namespace {

using emulated::Copy;
using emulated::Random;
using emulated::SameBits;
using emulated::SelftestReport;
using emulated::Text;

// Three rows up to width 4096, one row above: never more than kMaxWidth floats a case.
constexpr size_t kMaxWidth = 3 * 8192, kMaxOdd = 63, kMaxRows = 3;
// Static, as nothing here allocates.
float x[kMaxWidth], want[kMaxWidth], got[kMaxWidth];
float signs[kMaxWidth], dct[kMaxOdd * kMaxOdd];
float scratch[kMaxWidth];

using RotateRows = void (*)(const RotationPlan&, const float*, float*, size_t, bool);

struct Build {
  const char* name;
  RotateRows rotate;  // null when this build lacks it
  bool runs;
};

void Check(const Build& build, const RotationPlan& plan, size_t rows, SelftestReport* report) {
  const size_t n = rows * plan.width;
  for (bool inverse : {false, true}) {
    internal::RotateRowsScalar(plan, x, want, rows, inverse);
    for (bool in_place : {false, true}) {
      ++report->cases;
      if (in_place) {
        for (size_t i = 0; i < n; ++i) got[i] = x[i];
        build.rotate(plan, got, got, rows, inverse);
      } else {
        for (size_t i = 0; i < n; ++i) got[i] = -1.0f;
        build.rotate(plan, x, got, rows, inverse);
      }
      for (size_t i = 0; i < n; ++i) {
        if (SameBits(got[i], want[i])) continue;
        if (report->failures++ == 0) {
          Text t{report->failure, sizeof(report->failure)};
          t << build.name << (inverse ? " inverse" : " forward") << (in_place ? " in place" : "")
            << " width " << uint64_t{plan.width} << " (" << uint64_t{plan.pow2} << " x "
            << uint64_t{plan.odd} << ", block " << uint64_t{plan.block} << ") rows "
            << uint64_t{rows} << " at " << uint64_t{i};
        }
        break;
      }
    }
  }
}

// A whole-row plan (block 0) of width pow2 * odd, or a block plan (block 64) of width
// pow2 * odd (any odd: no DCT).
void CheckAll(const Build (&builds)[3], size_t pow2, size_t odd, Random& rng,
              SelftestReport* report, size_t block = 0) {
  const size_t width = pow2 * odd;
  const size_t rows = width <= 4096 ? kMaxRows : 1;
  for (size_t i = 0; i < rows * width; ++i) x[i] = rng.Uniform(-4.0f, 4.0f);
  for (size_t i = 0; i < width; ++i) signs[i] = rng.Uniform(-1.0f, 1.0f);
  if (block == 0) {
    for (size_t i = 0; i < odd * odd; ++i) dct[i] = rng.Uniform(-1.0f, 1.0f);
  }
  const RotationPlan plan = block != 0
                                ? RotationPlan{width, 0, 0, signs, nullptr, block}
                                : RotationPlan{width, pow2, odd, signs, odd > 1 ? dct : nullptr};
  for (uint32_t v = 0; v < 3; ++v) {
    const Build& b = builds[v];
    if (b.rotate == nullptr || !b.runs) continue;
    for (uint32_t i = 0; i < emulated::kVariantCount; ++i) {
      if (SameKernelName(emulated::kVariantNames[i], b.name)) report->variants |= 1u << i;
    }
    Check(b, plan, rows, report);
  }
}

}  // namespace

// The kernels' per-thread buffer, here one static buffer (one thread).
namespace internal {
float* RotationScratch(size_t floats) { return floats <= kMaxWidth ? scratch : nullptr; }
}  // namespace internal

}  // namespace latentbus::codec

extern "C" uint32_t latentbus_codec_rotation_selftest(const uint8_t* /*input*/,
                                                      uint64_t input_bytes,
                                                      latentbus::emulated::SelftestReport* report) {
  using namespace latentbus::codec;
  __builtin_memset(report, 0, sizeof(*report));
  const CpuFeatures cpu = DetectCpuFeatures();
  latentbus::emulated::Copy(report->chosen, sizeof(report->chosen), BestKernelsName(cpu));
  if (input_bytes != 0) {
    report->failures = 1;
    latentbus::emulated::Copy(report->failure, sizeof(report->failure),
                              "bad input: this self-test takes none");
    return report->failures;
  }
  const Build builds[3] = {
      {"scalar", internal::RotateRowsScalar, true},
      {"avx2", internal::RotateRowsAvx2, cpu.avx2},
      {"avx512", internal::RotateRowsAvx512, cpu.avx2 && cpu.avx512},
  };
  latentbus::emulated::Random rng{0x2545F4914F6CDD1DULL};
  for (size_t pow2 = 1; pow2 <= 8192; pow2 *= 2) CheckAll(builds, pow2, 1, rng, report);
  for (size_t odd : {size_t{3}, size_t{9}, size_t{63}}) {
    for (size_t pow2 : {size_t{1}, size_t{4}, size_t{8}, size_t{16}, size_t{64}, size_t{256}}) {
      CheckAll(builds, pow2, odd, rng, report);
    }
  }
  CheckAll(builds, 8192, 3, rng, report);  // an odd factor with blocks longer than L1
  for (size_t width :
       {size_t{1}, size_t{7}, size_t{63}, size_t{64}, size_t{77}, size_t{100}, size_t{127},
        size_t{576}, size_t{640}, size_t{4096}, size_t{4159}, size_t{8192}}) {
    CheckAll(builds, 1, width, rng, report, /*block=*/64);
  }
  return report->failures;
}

// Runs an AVX-512 instruction without asking the CPU: on a CPU without AVX-512 it must stop
// at an invalid-opcode exception, which shows the harness that the emulated CPU enforces its
// model.
extern "C" __attribute__((target("avx512f"))) uint32_t latentbus_selftest_avx512_canary() {
  using latentbus::codec::x;
  for (size_t i = 0; i < 16; ++i) x[i] = 1.0f;
  const __m512 v = _mm512_loadu_ps(x);
  _mm512_storeu_ps(x, _mm512_sub_ps(v, v));
  return x[0] == 0.0f ? 0 : 2;
}
