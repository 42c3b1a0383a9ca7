// The int8 products' self-test for emulated CPUs (tests/emulated/): a freestanding program
// (no C library, no heap) that checks every variant the CPU it runs on supports, bit for bit,
// against the definition in int8_matmul.h computed here from the unpacked matrix (integer
// sums in 64 bits), and reports which variant BestInt8MatmulKernels takes on that CPU.
// tests/emulated/kernels_test.py runs it on emulated CPUs with and without AVX-512 and VNNI.
//
// Cases: row counts around the register tiles (1 to 13), widths with every remainder of a
// 16-column tile, depths from 4 to 576, each without bias, with bias and accumulating into
// an output with a gap after every row (which must stay untouched); and the extremes of the
// range (weights +-127 and activations 127 at the largest depth, where the VNNI variants' offset
// sums come within 2% of int32's limit); and each variant's rounding of activation rows
// (its own vectorized copy) against the reference's bytes.
//
// Entry: latentbus_int8_matmul_selftest(input, input_bytes, report). It takes no input:
// input_bytes != 0 is reported as "bad input" (the harness's check that failures reach
// it). Returns the failures.
#include <cstddef>
#include <cstdint>

#include "bridge/int8_matmul.h"
#include "codec/cpu_features.h"
#include "tests/emulated/selftest.h"

namespace latentbus::bridge {
namespace {

using emulated::Copy;
using emulated::kVariantCount;
using emulated::kVariantNames;
using emulated::Random;
using emulated::SameBits;
using emulated::SelftestReport;
using emulated::Text;

constexpr size_t kMaxRows = 13, kMaxN = 160, kMaxK = 576, kGap = 3;
constexpr size_t kExtremeK = kInt8MaxDepth, kExtremeN = 17;
// Static, as nothing here allocates.
int8_t dense[kMaxK * kMaxN];               // [k][n]
int8_t packed[kExtremeK * 2 * kInt8Tile];  // the larger of the two uses
float wscales[kMaxN + kInt8Tile];
int32_t offset_sums[kMaxN + kInt8Tile];
uint8_t xs[kMaxRows * kMaxK], xs_offset[kMaxRows * kMaxK];
uint8_t x_extreme[kExtremeK], x_extreme_offset[kExtremeK];
float xscales[kMaxRows], bias[kMaxN];
int32_t sums[kMaxRows * kMaxN];
float start[kMaxRows * (kMaxN + kGap)], want[kMaxRows * (kMaxN + kGap)],
    got[kMaxRows * (kMaxN + kGap)];

// Packs the [k, n] matrix `value(r, j)` into the layout of Int8MatrixView, with the scales
// and offset sums.
template <typename Value>
Int8MatrixView Pack(size_t k, size_t n, Value value) {
  const size_t tiles = (n + kInt8Tile - 1) / kInt8Tile, steps = k / 4;
  for (size_t i = 0; i < tiles * steps * 64; ++i) packed[i] = 0;
  for (size_t j = 0; j < tiles * kInt8Tile; ++j) offset_sums[j] = 0;
  for (size_t j = 0; j < n; ++j) {
    int32_t sum = 0;
    for (size_t r = 0; r < k; ++r) {
      const int8_t v = value(r, j);
      packed[Int8PackedIndex(k, r, j)] = v;
      sum += v;
    }
    offset_sums[j] = 128 * sum;
  }
  return Int8MatrixView{k, n, packed, wscales, offset_sums};
}

class Checker {
 public:
  explicit Checker(SelftestReport* report) : report_(report) {}

  // Every variant on (w, x) in the three modes; `value(r, j)` is the weight at row r of
  // column j, `xq(i, c)` the activation.
  template <typename Weight, typename Activation>
  void CheckAll(const codec::CpuFeatures& cpu, const Int8MatrixView& w, size_t rows,
                const uint8_t* x, const uint8_t* x_offset, Weight value, Activation xq,
                const char* what) {
    const size_t stride = w.n + kGap;
    for (size_t i = 0; i < rows; ++i) {
      for (size_t j = 0; j < w.n; ++j) {
        int64_t sum = 0;
        for (size_t c = 0; c < w.k; ++c) sum += int64_t{xq(i, c)} * value(c, j);
        sums[i * w.n + j] = static_cast<int32_t>(sum);  // in range: int8_matmul.h
      }
    }
    for (int mode = 0; mode < 3; ++mode) {  // 0: no bias, 1: bias, 2: accumulate
      const float* b = mode == 1 ? bias : nullptr;
      for (size_t i = 0; i < rows; ++i) {
        for (size_t j = 0; j < w.n; ++j) {
          const int32_t sum = sums[i * w.n + j];
          const float base = mode == 2 ? start[i * stride + j] : (b != nullptr ? b[j] : 0.0f);
          const float scale = xscales[i] * w.scales[j];
          want[i * stride + j] = base + static_cast<float>(sum) * scale;
        }
        for (size_t j = w.n; j < stride; ++j) want[i * stride + j] = start[i * stride + j];
      }
      for (uint32_t v = 0; v < kVariantCount; ++v) {
        const Int8MatmulKernels* k = Int8MatmulKernelsNamed(kVariantNames[v], cpu);
        if (k == nullptr) continue;
        report_->variants |= 1u << v;
        ++report_->cases;
        for (size_t i = 0; i < rows * stride; ++i) got[i] = start[i];
        const Int8RowsView xv{rows, w.k, k->offset_activations ? x_offset : x, xscales};
        k->matmul(w, xv, b, mode == 2, got, stride);
        for (size_t i = 0; i < rows * stride; ++i) {
          if (!SameBits(got[i], want[i])) {
            Fail(*k, what, mode, w, rows, i / stride, i % stride);
            break;
          }
        }
      }
    }
  }

 private:
  void Fail(const Int8MatmulKernels& k, const char* what, int mode, const Int8MatrixView& w,
            size_t rows, size_t row, size_t column) {
    if (report_->failures++ > 0) return;
    const char* modes[] = {"no bias", "bias", "accumulate"};
    Text t{report_->failure, sizeof(report_->failure)};
    t << k.name << " " << what << " " << modes[mode] << " " << uint64_t{rows} << "x"
      << uint64_t{w.k} << "x" << uint64_t{w.n} << " at " << uint64_t{row} << ","
      << uint64_t{column};
  }

  SelftestReport* report_;
};

void RandomFloats(Random& rng, float* out, size_t n, float lo, float hi) {
  for (size_t i = 0; i < n; ++i) out[i] = rng.Uniform(lo, hi);
}

void CheckRandom(Checker& checker, const codec::CpuFeatures& cpu) {
  Random rng{0x2545F4914F6CDD1DULL};
  const size_t row_counts[] = {1, 3, 4, 5, 8, 13};
  const size_t widths[] = {1, 15, 17, 160};
  const size_t depths[] = {4, 12, 576};
  for (size_t rows : row_counts) {
    for (size_t n : widths) {
      for (size_t k : depths) {
        // Weights and activations over all of [-127, 127].
        for (size_t i = 0; i < k * n; ++i) {
          dense[i] = static_cast<int8_t>(static_cast<int>(rng.Next() % 255) - 127);
        }
        for (size_t i = 0; i < rows * k; ++i) {
          const int v = static_cast<int>(rng.Next() % 255) - 127;
          xs[i] = static_cast<uint8_t>(v);
          xs_offset[i] = static_cast<uint8_t>(v + 128);
        }
        RandomFloats(rng, wscales, n, 0.0001f, 0.01f);
        RandomFloats(rng, xscales, rows, 0.001f, 0.1f);
        RandomFloats(rng, bias, n, -1.0f, 1.0f);
        RandomFloats(rng, start, rows * (n + kGap), -3.0f, 3.0f);
        const auto dense_value = [&](size_t r, size_t j) { return dense[r * n + j]; };
        const Int8MatrixView w = Pack(k, n, dense_value);
        checker.CheckAll(
            cpu, w, rows, xs, xs_offset, dense_value,
            [&](size_t i, size_t c) { return static_cast<int8_t>(xs[i * k + c]); }, "random");
      }
    }
  }
}

// Each variant's rounding of activation rows (its own copy, vectorized with its
// instructions) gives the reference's bytes, plus 128 where it takes offset activations.
void CheckRounding(const codec::CpuFeatures& cpu, SelftestReport* report) {
  Random rng{0x9E3779B97F4A7C15ULL};
  constexpr size_t kRows = 7, kCols = 133, kK = 136;
  static float rows[kRows * kCols];
  static uint8_t want[kRows * kK], got[kRows * kK];
  static float want_scales[kRows], got_scales[kRows];
  for (size_t i = 0; i < kRows * kCols; ++i) rows[i] = rng.Uniform(-4.0f, 4.0f);
  rows[kCols + 3] = 3e38f;                                     // huge
  rows[2 * kCols + 5] = __builtin_nanf("");                    // not finite
  for (size_t c = 0; c < kCols; ++c) rows[3 * kCols + c] = 0;  // all zero
  rows[4 * kCols + 1] = -__builtin_inff();
  for (size_t c = 0; c < kCols; ++c) rows[5 * kCols + c] = static_cast<float>(c % 9) - 4.0f;
  for (size_t i = 0; i < kRows * kK; ++i) want[i] = 0;
  ScalarInt8MatmulKernels().quantize_rows(rows, kRows, kCols, kK, want, want_scales);
  for (uint32_t v = 0; v < kVariantCount; ++v) {
    const Int8MatmulKernels* k = Int8MatmulKernelsNamed(kVariantNames[v], cpu);
    if (k == nullptr) continue;
    ++report->cases;
    const uint8_t offset = k->offset_activations ? 128 : 0;
    for (size_t i = 0; i < kRows * kK; ++i) got[i] = offset;
    k->quantize_rows(rows, kRows, kCols, kK, got, got_scales);
    bool same = true;
    for (size_t i = 0; i < kRows * kK; ++i) same = same && got[i] == uint8_t(want[i] + offset);
    for (size_t i = 0; i < kRows; ++i) same = same && SameBits(got_scales[i], want_scales[i]);
    if (!same && report->failures++ == 0) {
      Text t{report->failure, sizeof(report->failure)};
      t << k->name << " quantize_rows differs from the reference";
    }
  }
}

void CheckExtremes(Checker& checker, const codec::CpuFeatures& cpu) {
  // The largest sums of either sign; activation 127 is the VNNI variants' largest byte.
  const int8_t weights[] = {127, -127};
  const int8_t activation = 127;
  for (size_t c = 0; c < kExtremeK; ++c) {
    x_extreme[c] = static_cast<uint8_t>(activation);
    x_extreme_offset[c] = static_cast<uint8_t>(activation + 128);
  }
  for (int8_t weight : weights) {
    for (size_t j = 0; j < kExtremeN; ++j) wscales[j] = 1e-9f;
    xscales[0] = 1;
    for (size_t i = 0; i < kExtremeN + kGap; ++i) start[i] = 0.5f;
    const auto fill = [&](size_t, size_t) { return weight; };
    const Int8MatrixView w = Pack(kExtremeK, kExtremeN, fill);
    checker.CheckAll(
        cpu, w, 1, x_extreme, x_extreme_offset, fill, [&](size_t, size_t) { return activation; },
        "extreme");
  }
}

}  // namespace
}  // namespace latentbus::bridge

extern "C" uint32_t latentbus_int8_matmul_selftest(const uint8_t* /*input*/, uint64_t input_bytes,
                                                   latentbus::emulated::SelftestReport* report) {
  using namespace latentbus::bridge;
  __builtin_memset(report, 0, sizeof(*report));
  const latentbus::codec::CpuFeatures cpu = latentbus::codec::DetectCpuFeatures();
  Copy(report->chosen, sizeof(report->chosen), BestInt8MatmulKernels(cpu).name);
  if (input_bytes != 0) {
    report->failures = 1;
    Copy(report->failure, sizeof(report->failure), "bad input: this self-test takes none");
    return report->failures;
  }
  Checker checker(report);
  CheckRandom(checker, cpu);
  CheckExtremes(checker, cpu);
  CheckRounding(cpu, report);
  return report->failures;
}

// Runs the VNNI variant without asking the CPU (zeros in, nothing checked): on a CPU without
// VNNI it must stop at an invalid-opcode exception, which shows the harness that the
// emulated CPU enforces its model.
extern "C" uint32_t latentbus_selftest_vnni_canary() {
  using namespace latentbus::bridge;
  const Int8MatmulKernels* vnni = Avx512VnniInt8MatmulKernelsIfBuilt();
  if (vnni == nullptr) return 1;
  for (size_t i = 0; i < 64; ++i) packed[i] = 0, xs_offset[i] = 128;
  wscales[0] = xscales[0] = 1;
  offset_sums[0] = 0;
  const Int8MatrixView w{4, 1, packed, wscales, offset_sums};
  const Int8RowsView x{1, 4, xs_offset, xscales};
  got[0] = 7;
  vnni->matmul(w, x, nullptr, false, got, 1);
  return got[0] == 0 ? 0 : 2;
}
