// The packed kernels' self-test for emulated CPUs (tests/emulated/): a freestanding
// program (no C library, no heap) that checks every variant the CPU it runs on supports
// against a double-precision product of the scalar reference's floats, on random matrices
// of every layout and on real matrices handed to it in memory, and reports which variant
// ChoosePackedKernels takes on that CPU. tests/emulated/kernels_test.py runs it on
// emulated CPUs with and without AVX-512 and VNNI, which this machine may lack.
//
// Entry: latentbus_packed_selftest(input, input_bytes, report). `input` holds real matrices
// as records (packed_selftest_input.cc writes them): a header of four uint32 (layout 0 int8,
// 1 int4, 2 F16, 3 BF16; group; rows; cols), the values (rows * cols bytes, half that for
// int4, twice that for F16 / BF16), then for int8 and int4 the scales (rows * cols / group
// floats), for int4 the mins (as many). Returns the failures.
#include <cstddef>
#include <cstdint>

#include "agent/llm/packed_kernel_variants.h"
#include "codec/cpu_features.h"
#include "tests/emulated/selftest.h"

namespace latentbus::agent::llm {

namespace {

using emulated::Abs;
using emulated::Copy;
using emulated::kVariantCount;
using emulated::kVariantNames;
using emulated::Random;
using emulated::SameBits;
using emulated::SelftestReport;
using emulated::Text;

constexpr size_t kMaxRows = 16, kMaxCols = 4096;
// Room for one matrix and its results; static, as nothing here allocates.
int8_t q8_buffer[kMaxRows * kMaxCols];
uint8_t q4_buffer[kMaxRows * kMaxCols / 2];
uint16_t h16_buffer[kMaxRows * kMaxCols];
float scale_buffer[kMaxRows * kMaxCols / 16], min_buffer[kMaxRows * kMaxCols / 32];
float x[kMaxCols], sums[kMaxCols / 32], xscales[kMaxCols / 32];
int8_t xq[kMaxCols];
float dense[kMaxRows * kMaxCols], got_rows[kMaxRows * kMaxCols];
float y[kMaxRows], part[1];

class Checker {
 public:
  explicit Checker(SelftestReport* report) : report_(report) {}

  // Checks `k` on `m` with the row x (and its rounding xq / xscales) set up.
  void Check(const PackedKernels& k, const PackedView& m, const char* source) {
    ++report_->cases;
    const size_t rows = m.rows, cols = m.cols, groups = m.groups_per_row();
    const bool int4 = m.layout == PackedLayout::kInt4;
    // Exact floats of the matrix, from the reference.
    ScalarPackedKernels().dequantize(m, 0, rows, dense);
    k.gemv(m, x, sums, y, 0, rows);
    for (size_t r = 0; r < rows; ++r) {
      double want = 0, magnitude = 0;
      for (size_t c = 0; c < cols; ++c) {
        const double term = static_cast<double>(dense[r * cols + c]) * x[c];
        want += term;
        magnitude += Abs(term);
      }
      Expect(y[r], want, 1e-5 * magnitude + 1e-30, k, m, source, "gemv", r);
    }
    if (rows >= 3) {  // a middle row range writes only its rows
      k.gemv(m, x, sums, part, 1, 2);
      ExpectSame(part[0], y[1], k, m, source, "gemv rows [1, 2)");
    }
    k.gemv_int8(m, xq, xscales, sums, y, 0, rows);
    for (size_t r = 0; r < rows; ++r) {
      double want = 0, magnitude = 0;
      for (size_t c = 0; c < cols; ++c) {
        const double w = dense[r * cols + c];
        const double rounded = static_cast<double>(xscales[c / 32]) * xq[c];
        // kInt4: the min term multiplies the exact sums, not the rounded values.
        const double min = int4 ? m.mins[r * groups + c / 32] : 0.0;
        want += (w - min) * rounded + min * x[c];
        magnitude += Abs(w * rounded) + Abs(min * x[c]);
      }
      Expect(y[r], want, 1e-5 * magnitude + 1e-30, k, m, source, "gemv_int8", r);
    }
    if (rows >= 3) {
      k.gemv_int8(m, xq, xscales, sums, part, 1, 2);
      ExpectSame(part[0], y[1], k, m, source, "gemv_int8 rows [1, 2)");
    }
    const size_t first = rows >= 2 ? 1 : 0;  // from the second row: an offset into the matrix
    k.dequantize(m, first, rows, got_rows);
    for (size_t i = 0; i < (rows - first) * cols; ++i) {
      if (!SameBits(got_rows[i], dense[first * cols + i])) {
        Fail(k, m, source, "dequantize", first + i / cols);
        break;
      }
    }
  }

 private:
  void Expect(float got, double want, double tolerance, const PackedKernels& k, const PackedView& m,
              const char* source, const char* what, size_t row) {
    const double ratio = Abs(got - want) / tolerance;
    if (ratio > report_->worst) report_->worst = static_cast<float>(ratio);
    if (!(ratio <= 1)) Fail(k, m, source, what, row);  // NaN fails too
  }

  void ExpectSame(float got, float want, const PackedKernels& k, const PackedView& m,
                  const char* source, const char* what) {
    if (!SameBits(got, want)) Fail(k, m, source, what, 1);
  }

  void Fail(const PackedKernels& k, const PackedView& m, const char* source, const char* what,
            size_t row) {
    if (report_->failures++ > 0) return;
    Text t{report_->failure, sizeof(report_->failure)};
    const char* layouts[] = {"int8", "int4", "f16", "bf16"};
    t << k.name << " " << what << " " << source << " " << layouts[static_cast<int>(m.layout)] << "/"
      << uint64_t{m.group} << " " << uint64_t{m.rows} << "x" << uint64_t{m.cols} << " row "
      << uint64_t{row};
  }

  SelftestReport* report_;
};

// A random activation row, its group sums and its rounding to int8 blocks (any values in
// range serve: the check multiplies what it is given).
void RandomRow(Random& rng, size_t cols) {
  for (size_t c = 0; c < cols; ++c) x[c] = rng.Uniform(-2, 2);
  for (size_t b = 0; b < cols / 32; ++b) {
    float s = 0;
    for (size_t j = 0; j < 32; ++j) s += x[32 * b + j];
    sums[b] = s;
    xscales[b] = rng.Uniform(0.001f, 0.05f);
  }
  for (size_t c = 0; c < cols; ++c)
    xq[c] = static_cast<int8_t>(static_cast<int>(rng.Next() % 255) - 127);
}

void CheckEveryVariant(Checker& checker, const PackedView& m, const char* source,
                       const codec::CpuFeatures& cpu, SelftestReport* report) {
  for (uint32_t i = 0; i < kVariantCount; ++i) {
    if (const PackedKernels* k = PackedKernelsNamed(kVariantNames[i], cpu)) {
      report->variants |= 1u << i;
      checker.Check(*k, m, source);
    }
  }
}

// Random matrices: every layout, row counts around the register widths, column counts
// with every remainder of groups a register holds (1 to 4 groups of 16, 1 or 2 of 32).
void CheckRandom(Checker& checker, const codec::CpuFeatures& cpu, SelftestReport* report) {
  Random rng{0x9E3779B97F4A7C15ULL};
  const size_t row_counts[] = {1, 3, 16};
  const size_t col_counts[] = {32, 64, 96, 160, 224, 576};
  struct Shape {
    PackedLayout layout;
    size_t group;
  };
  const Shape shapes[] = {{PackedLayout::kInt8, 32},
                          {PackedLayout::kInt8, 16},
                          {PackedLayout::kInt4, 32},
                          {PackedLayout::kF16, 32},
                          {PackedLayout::kBF16, 32}};
  for (const Shape& shape : shapes) {
    for (size_t rows : row_counts) {
      for (size_t cols : col_counts) {
        PackedView m;
        m.layout = shape.layout;
        m.rows = rows;
        m.cols = cols;
        m.group = shape.group;
        m.q8 = q8_buffer;
        m.q4 = q4_buffer;
        m.scales = scale_buffer;
        m.mins = min_buffer;
        m.h16 = h16_buffer;
        // Every byte value, -128 included (Q8_0 holds it; the kernels must not negate it).
        for (size_t i = 0; i < rows * cols; ++i) q8_buffer[i] = static_cast<int8_t>(rng.Next());
        for (size_t i = 0; i < rows * cols / 2; ++i)
          q4_buffer[i] = static_cast<uint8_t>(rng.Next());
        // Finite 16-bit floats of magnitudes 2^-6 .. 2^5, either sign, any mantissa.
        for (size_t i = 0; i < rows * cols; ++i) {
          const uint64_t v = rng.Next();
          const uint16_t sign = static_cast<uint16_t>((v >> 20) & 1) << 15;
          h16_buffer[i] =
              shape.layout == PackedLayout::kF16
                  ? static_cast<uint16_t>(sign | (9 + (v >> 24) % 12) << 10 | (v & 0x3ff))
                  : static_cast<uint16_t>(sign | (121 + (v >> 24) % 12) << 7 | (v & 0x7f));
        }
        for (size_t g = 0; g < rows * cols / shape.group; ++g) {
          scale_buffer[g] = rng.Uniform(-0.05f, 0.05f);
          min_buffer[g] = rng.Uniform(-0.5f, 0.5f);
        }
        RandomRow(rng, cols);
        CheckEveryVariant(checker, m, "random", cpu, report);
      }
    }
  }
}

// The records of `input` (see the top of this file); false when they do not parse.
bool CheckReal(Checker& checker, const uint8_t* input, uint64_t bytes,
               const codec::CpuFeatures& cpu, SelftestReport* report) {
  Random rng{42};
  uint64_t at = 0;
  while (at < bytes) {
    if (bytes - at < 16) return false;
    uint32_t header[4];
    __builtin_memcpy(header, input + at, 16);
    at += 16;
    if (header[0] > 3) return false;
    PackedView m;
    m.layout = static_cast<PackedLayout>(header[0]);
    m.group = header[1];
    m.rows = header[2];
    m.cols = header[3];
    const bool int4 = m.layout == PackedLayout::kInt4, half = IsHalfLayout(m.layout);
    if ((m.group != 32 && m.group != 16) || (m.group != 32 && m.layout != PackedLayout::kInt8) ||
        m.rows == 0 || m.rows > kMaxRows || m.cols == 0 || m.cols > kMaxCols || m.cols % 32 != 0) {
      return false;
    }
    const uint64_t values = half   ? m.rows * m.cols * 2
                            : int4 ? m.rows * m.cols / 2
                                   : m.rows * m.cols;
    const uint64_t floats = half ? 0 : m.rows * m.cols / m.group * sizeof(float);
    if (bytes - at < values + floats * (int4 ? 2 : 1)) return false;
    m.q8 = reinterpret_cast<const int8_t*>(input + at);
    m.q4 = input + at;
    m.h16 = reinterpret_cast<const uint16_t*>(input + at);
    m.scales = reinterpret_cast<const float*>(input + at + values);
    m.mins = int4 ? reinterpret_cast<const float*>(input + at + values + floats) : nullptr;
    at += values + floats * (int4 ? 2 : 1);
    RandomRow(rng, m.cols);
    ++report->real_matrices;
    CheckEveryVariant(checker, m, "real", cpu, report);
  }
  return true;
}

}  // namespace
}  // namespace latentbus::agent::llm

extern "C" uint32_t latentbus_packed_selftest(const uint8_t* input, uint64_t input_bytes,
                                              latentbus::emulated::SelftestReport* report) {
  using namespace latentbus::agent::llm;
  __builtin_memset(report, 0, sizeof(*report));
  const latentbus::codec::CpuFeatures cpu = latentbus::codec::DetectCpuFeatures();
  Copy(report->chosen, sizeof(report->chosen), ChoosePackedKernels(cpu, nullptr).name);
  Checker checker(report);
  CheckRandom(checker, cpu, report);
  if (!CheckReal(checker, input, input_bytes, cpu, report)) {
    if (report->failures++ == 0) Copy(report->failure, sizeof(report->failure), "bad input");
  }
  return report->failures;
}

// Runs the VNNI variant without asking the CPU (zeros in, nothing checked): on a CPU without
// VNNI it must stop at an invalid-opcode exception, which shows the harness that the
// emulated CPU enforces its model.
extern "C" uint32_t latentbus_selftest_vnni_canary() {
  using namespace latentbus::agent::llm;
  const PackedKernels* vnni = Avx512VnniPackedKernelsIfBuilt();
  if (vnni == nullptr) return 1;
  __builtin_memset(q8_buffer, 0, 64);
  __builtin_memset(xq, 0, 64);
  scale_buffer[0] = scale_buffer[1] = xscales[0] = xscales[1] = 1;
  PackedView m;
  m.rows = 1;
  m.cols = 64;
  m.q8 = q8_buffer;
  m.scales = scale_buffer;
  vnni->gemv_int8(m, xq, xscales, sums, y, 0, 1);
  return y[0] == 0 ? 0 : 2;
}
