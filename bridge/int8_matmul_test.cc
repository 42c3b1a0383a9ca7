// The int8 products: the reference against the definition computed from the unpacked
// matrix, every variant this CPU runs against the reference bit for bit (the emulated
// self-test covers the variants this CPU lacks), the rounding of weights and activations,
// and the choice among variants.
#include "bridge/int8_matmul.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "bridge/bridge_kernels.h"
#include "bridge/int8_matrix.h"
#include "gtest/gtest.h"

namespace latentbus::bridge {
namespace {

std::vector<float> Normal(size_t n, std::mt19937* rng, float stddev = 1) {
  std::normal_distribution<float> dist(0, stddev);
  std::vector<float> v(n);
  for (float& x : v) x = dist(*rng);
  return v;
}

bool SameBits(float a, float b) {
  uint32_t x, y;
  std::memcpy(&x, &a, 4);
  std::memcpy(&y, &b, 4);
  return x == y;
}

// The products of `kernels` for rows x [rows, k] and weights w [k, n] (floats rounded here).
std::vector<float> Product(const Int8MatmulKernels& kernels, const Int8Matrix& w,
                           const std::vector<float>& x, size_t rows, size_t k,
                           const std::vector<float>* bias, const std::vector<float>* start) {
  Int8Rows xq;
  xq.Quantize(x.data(), rows, k, w.k(), kernels);
  std::vector<float> out = start != nullptr ? *start : std::vector<float>(rows * w.n(), 0.0f);
  kernels.matmul(w.view(), xq.view(), bias != nullptr ? bias->data() : nullptr, start != nullptr,
                 out.data(), w.n());
  return out;
}

TEST(Int8MatmulTest, ReferenceIsTheDefinition) {
  std::mt19937 rng(3);
  const size_t rows = 5, k = 70, n = 21;  // k padded to 72; n a tile and 5 columns
  const std::vector<float> w = Normal(k * n, &rng), x = Normal(rows * k, &rng),
                           bias = Normal(n, &rng);
  const Int8Matrix m = Int8Matrix::FromFloat(w.data(), k, n);
  EXPECT_EQ(m.k(), 72u);
  const std::vector<float> got = Product(ScalarInt8MatmulKernels(), m, x, rows, k, &bias, nullptr);
  Int8Rows xq;
  xq.Quantize(x.data(), rows, k, m.k(), ScalarInt8MatmulKernels());
  const Int8RowsView xv = xq.view();
  for (size_t i = 0; i < rows; ++i) {
    for (size_t j = 0; j < n; ++j) {
      // Exact integer sum of the rounded values, then the scaling in the documented order.
      int64_t sum = 0;
      for (size_t c = 0; c < k; ++c) {
        const int q = static_cast<int8_t>(xv.q[i * m.k() + c]);
        sum += q * static_cast<int64_t>(std::lround(m.Dequantized(c, j) / m.view().scales[j]));
      }
      const float want = bias[j] + static_cast<float>(sum) * (xv.scales[i] * m.view().scales[j]);
      EXPECT_TRUE(SameBits(got[i * n + j], want)) << i << "," << j;
      // And close to the float product.
      double exact = bias[j];
      for (size_t c = 0; c < k; ++c) exact += double{x[i * k + c]} * w[c * n + j];
      EXPECT_NEAR(got[i * n + j], exact, 0.05 * std::sqrt(double{k})) << i << "," << j;
    }
  }
}

TEST(Int8MatmulTest, EveryVariantThisCpuRunsEqualsTheReferenceBitForBit) {
  const codec::CpuFeatures cpu = codec::DetectCpuFeatures();
  std::mt19937 rng(11);
  int checked = 0;
  for (const char* name : {"avx2", "avx2vnni", "avx512", "avx512vnni"}) {
    const Int8MatmulKernels* k = Int8MatmulKernelsNamed(name, cpu);
    if (k == nullptr) continue;
    ++checked;
    for (size_t rows : {1u, 3u, 4u, 7u, 9u, 45u}) {
      for (size_t n : {1u, 16u, 17u, 40u, 128u, 640u}) {
        const size_t depth = n == 640 ? 576 : 4 * (rows + n % 5) + 2;
        const std::vector<float> w = Normal(depth * n, &rng, 0.05f), x = Normal(rows * depth, &rng),
                                 bias = Normal(n, &rng), start = Normal(rows * n, &rng);
        const Int8Matrix m = Int8Matrix::FromFloat(w.data(), depth, n);
        for (int mode = 0; mode < 3; ++mode) {
          const std::vector<float>* b = mode == 1 ? &bias : nullptr;
          const std::vector<float>* s = mode == 2 ? &start : nullptr;
          const std::vector<float> want =
              Product(ScalarInt8MatmulKernels(), m, x, rows, depth, b, s);
          const std::vector<float> got = Product(*k, m, x, rows, depth, b, s);
          for (size_t i = 0; i < want.size(); ++i) {
            ASSERT_TRUE(SameBits(got[i], want[i]))
                << name << " rows " << rows << " n " << n << " mode " << mode << " at " << i << ": "
                << got[i] << " vs " << want[i];
          }
        }
      }
    }
  }
  if (checked == 0) GTEST_SKIP() << "no vector variant runs here (tests/emulated covers them)";
}

TEST(Int8MatrixTest, RoundsEachColumnToItsOwnScale) {
  // Column 0 spans [-127, 127] (scale 1) with a tie, column 1 is all zero.
  const std::vector<float> w = {127, 0, 1, -127, 0, 0.5f, 63.5f, 0, -1};
  const Int8Matrix m = Int8Matrix::FromFloat(w.data(), 3, 3);
  EXPECT_EQ(m.view().scales[0], 1.0f);
  EXPECT_EQ(m.view().scales[1], 0.0f);
  EXPECT_FLOAT_EQ(m.view().scales[2], 1.0f / 127);
  EXPECT_EQ(m.Dequantized(0, 0), 127.0f);
  EXPECT_EQ(m.Dequantized(1, 0), -127.0f);
  EXPECT_EQ(m.Dequantized(2, 0), 64.0f);  // 63.5 ties to even
  EXPECT_EQ(m.Dequantized(1, 1), 0.0f);
  EXPECT_EQ(m.Dequantized(3, 0), 0.0f);  // the padding row
  EXPECT_EQ(m.view().offset_sums[0], 128 * (127 - 127 + 64));
  EXPECT_EQ(m.view().offset_sums[3], 0);  // past n
}

TEST(Int8MatrixTest, RowsRoundPerRowAndNonFiniteRowsGetANanScale) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> x = {127, -63.5f, 0, 0, 0, 0, 3, inf, 0};
  Int8Rows rows;
  rows.Quantize(x.data(), 3, 3, 4, ScalarInt8MatmulKernels());
  const Int8RowsView v = rows.view();
  EXPECT_EQ(v.scales[0], 1.0f);
  EXPECT_EQ(static_cast<int8_t>(v.q[0]), 127);
  EXPECT_EQ(static_cast<int8_t>(v.q[1]), -64);  // -63.5 ties to even
  EXPECT_EQ(v.q[3], 0);                         // padding: zero
  EXPECT_EQ(v.scales[1], 0.0f);                 // all zero
  EXPECT_TRUE(std::isnan(v.scales[2]));
  // 127 * 1 - 64 * 1 = 63; a NaN scale makes the row's products NaN.
  const std::vector<float> w = {1, 1, 1};
  const Int8Matrix m = Int8Matrix::FromFloat(w.data(), 3, 1);
  const std::vector<float> got = Product(ScalarInt8MatmulKernels(), m, x, 3, 3, nullptr, nullptr);
  EXPECT_NEAR(got[0], 63.0f, 1e-4);
  EXPECT_EQ(got[1], 0.0f);
  EXPECT_TRUE(std::isnan(got[2]));
}

// Each variant rounds with its own instructions: the same bytes as the reference (plus 128
// where it takes offset activations), on rows with ties, zeros, huge and non-finite values.
TEST(Int8MatrixTest, EveryVariantThisCpuRunsRoundsRowsLikeTheReference) {
  const codec::CpuFeatures cpu = codec::DetectCpuFeatures();
  std::mt19937 rng(17);
  const size_t rows = 9, cols = 70, k = 72;
  std::vector<float> x = Normal(rows * cols, &rng, 3);
  x[5] = 0.5f;  // ties after scaling by 127 / amax are rare; these are exact
  x[1 * cols + 3] = 1e30f;
  x[2 * cols + 7] = std::numeric_limits<float>::quiet_NaN();
  for (size_t c = 0; c < cols; ++c) x[3 * cols + c] = 0;
  x[4 * cols + 2] = -std::numeric_limits<float>::infinity();
  Int8Rows want;
  want.Quantize(x.data(), rows, cols, k, ScalarInt8MatmulKernels());
  int checked = 0;
  for (const char* name : {"avx2", "avx2vnni", "avx512", "avx512vnni"}) {
    const Int8MatmulKernels* kernels = Int8MatmulKernelsNamed(name, cpu);
    if (kernels == nullptr) continue;
    ++checked;
    Int8Rows got;
    got.Quantize(x.data(), rows, cols, k, *kernels);
    const int offset = kernels->offset_activations ? 128 : 0;
    for (size_t i = 0; i < rows * k; ++i) {
      ASSERT_EQ(got.view().q[i], static_cast<uint8_t>(want.view().q[i] + offset))
          << name << " at " << i;
    }
    for (size_t i = 0; i < rows; ++i) {
      ASSERT_TRUE(SameBits(got.view().scales[i], want.view().scales[i])) << name << " row " << i;
    }
  }
  if (checked == 0) GTEST_SKIP() << "no vector variant runs here (tests/emulated covers them)";
}

TEST(Int8MatmulChoiceTest, VariantsFollowTheCpu) {
  codec::CpuFeatures none;
  EXPECT_STREQ(BestInt8MatmulKernels(none).name, "scalar");
  EXPECT_EQ(Int8MatmulKernelsNamed("avx2", none), nullptr);
  EXPECT_EQ(Int8MatmulKernelsNamed("", none), nullptr);
  codec::CpuFeatures avx2;
  avx2.avx2 = true;
  EXPECT_STREQ(BestInt8MatmulKernels(avx2).name, "avx2");
  codec::CpuFeatures alder = avx2;
  alder.avx_vnni = true;
  EXPECT_STREQ(BestInt8MatmulKernels(alder).name, "avx2vnni");
  EXPECT_TRUE(BestInt8MatmulKernels(alder).offset_activations);
  codec::CpuFeatures icelake = avx2;
  icelake.avx512 = icelake.avx512_vnni = true;
  EXPECT_STREQ(BestInt8MatmulKernels(icelake).name, "avx512vnni");
  EXPECT_STREQ(Int8MatmulKernelsNamed("avx512", icelake)->name, "avx512");
  EXPECT_FALSE(Int8MatmulKernelsNamed("avx512", icelake)->offset_activations);
}

TEST(BridgeKernelsTest, ResolvesNamesAutoAndTheEnvironment) {
  codec::CpuFeatures avx2;
  avx2.avx2 = true;
  codec::CpuFeatures icelake = avx2;
  icelake.avx512 = icelake.avx512_vnni = true;
  auto name = [](const absl::StatusOr<const Int8MatmulKernels*>& k) -> std::string {
    if (!k.ok()) return "error: " + std::string(k.status().message());
    return *k == nullptr ? "blas" : (*k)->name;
  };
  // The library's default: blas unless the environment says otherwise.
  EXPECT_EQ(name(ResolveBridgeKernels("", nullptr, true, icelake)), "blas");
  EXPECT_EQ(name(ResolveBridgeKernels("", "int8", true, avx2)), "avx2");
  // auto: int8 only with VNNI.
  EXPECT_EQ(name(ResolveBridgeKernels("auto", nullptr, true, avx2)), "blas");
  EXPECT_EQ(name(ResolveBridgeKernels("auto", nullptr, true, icelake)), "avx512vnni");
  EXPECT_EQ(name(ResolveBridgeKernels("auto", "blas", true, icelake)), "blas");
  EXPECT_EQ(name(ResolveBridgeKernels("auto", nullptr, false, icelake)), "blas");
  // By name.
  EXPECT_EQ(name(ResolveBridgeKernels("int8", nullptr, true, icelake)), "avx512vnni");
  EXPECT_EQ(name(ResolveBridgeKernels("scalar", "blas", true, icelake)), "scalar");
  EXPECT_EQ(name(ResolveBridgeKernels("blas", nullptr, false, icelake)), "blas");
  const std::string unsupported = name(ResolveBridgeKernels("avx512vnni", nullptr, true, avx2));
  EXPECT_NE(unsupported.find("not supported by this CPU"), std::string::npos) << unsupported;
  EXPECT_NE(unsupported.find("blas, int8, scalar, avx2"), std::string::npos) << unsupported;
  EXPECT_NE(name(ResolveBridgeKernels("int8", nullptr, false, avx2)).find("no int8 form"),
            std::string::npos);
  // The environment variable: named in its errors, and a kind without int8 falls back.
  EXPECT_NE(name(ResolveBridgeKernels("", "fast", true, avx2)).find(kBridgeKernelsEnv),
            std::string::npos);
  EXPECT_EQ(name(ResolveBridgeKernels("auto", "int8", false, avx2)), "blas");
}

}  // namespace
}  // namespace latentbus::bridge
