// The AVX2 kernels must produce exactly the scalar kernels' bytes, including ragged
// last groups, odd lengths, rounding ties and failure detection.
#include "codec/kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "codec/synthetic.h"

namespace latentbus::codec {
namespace {

const size_t kLengths[] = {1,  2,  7,   8,   15,  31,  32,   33,   63,
                           64, 65, 127, 128, 129, 576, 1000, 4097, 32 * 576};
const size_t kGroups[] = {32, 64, 128};

std::vector<float> TestInput(size_t n, uint64_t seed) {
  std::vector<float> x = GaussianTensor(1, static_cast<uint32_t>(n), seed).data;
  // Exact rounding ties: with group absmax 127 (int8) the multiplier is 1, so k + 0.5
  // lands exactly halfway.
  for (size_t i = 0; i < n; i += 5) x[i] = static_cast<float>(static_cast<int>(i % 20) - 10) + 0.5f;
  if (n > 3) x[3] = 127.0f;
  if (n > 40) x[40] = 0.0f;
  for (size_t i = 128; i < 256 && i < n; ++i) x[i] = 0.0f;  // whole groups of zeros
  // Groups so small that Q / absmax overflows (subnormals, and normals below 2e-38), with
  // zeros among them.
  for (size_t i = 384; i < 512 && i < n; ++i) {
    x[i] = i % 3 == 0 ? 0.0f : std::ldexp(i % 2 ? 1.0f : -1.0f, -130 - static_cast<int>(i % 20));
  }
  for (size_t i = 512; i < 640 && i < n; ++i) {
    x[i] = i % 4 == 0 ? 0.0f : (i % 2 ? 1.5e-38f : -std::numeric_limits<float>::denorm_min());
  }
  return x;
}

// The vector tables against the scalar one, one test instance each; a table the CPU
// cannot run skips.
class KernelsTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    vec_ = KernelsNamed(GetParam());
    if (vec_ == nullptr) GTEST_SKIP() << "this CPU or build cannot run " << GetParam();
  }
  const Kernels& scalar_ = ScalarKernels();
  const Kernels* vec_ = nullptr;
};

INSTANTIATE_TEST_SUITE_P(Tables, KernelsTest, ::testing::Values("avx2", "avx512"),
                         [](const ::testing::TestParamInfo<const char*>& param) {
                           return std::string(param.param);
                         });

TEST_P(KernelsTest, Int8MatchesScalar) {
  for (size_t n : kLengths) {
    for (size_t g : kGroups) {
      const std::vector<float> x = TestInput(n, n * 31 + g);
      const size_t groups = (n + g - 1) / g;
      std::vector<float> s1(groups), s2(groups);
      std::vector<int8_t> q1(n), q2(n);
      ASSERT_TRUE(scalar_.quantize_int8(x.data(), n, g, s1.data(), q1.data()));
      ASSERT_TRUE(vec_->quantize_int8(x.data(), n, g, s2.data(), q2.data()));
      ASSERT_EQ(s1, s2) << "n=" << n << " g=" << g;
      ASSERT_EQ(q1, q2) << "n=" << n << " g=" << g;
      std::vector<float> d1(n), d2(n);
      scalar_.dequantize_int8(q1.data(), s1.data(), n, g, d1.data());
      vec_->dequantize_int8(q1.data(), s1.data(), n, g, d2.data());
      ASSERT_EQ(0, std::memcmp(d1.data(), d2.data(), n * 4)) << "n=" << n << " g=" << g;
    }
  }
}

TEST_P(KernelsTest, Int4MatchesScalar) {
  for (size_t n : kLengths) {
    for (size_t g : kGroups) {
      const std::vector<float> x = TestInput(n, n * 17 + g);
      const size_t groups = (n + g - 1) / g;
      std::vector<float> s1(groups), s2(groups);
      std::vector<uint8_t> q1((n + 1) / 2, 0xAA), q2((n + 1) / 2, 0x55);
      ASSERT_TRUE(scalar_.quantize_int4(x.data(), n, g, s1.data(), q1.data()));
      ASSERT_TRUE(vec_->quantize_int4(x.data(), n, g, s2.data(), q2.data()));
      ASSERT_EQ(s1, s2) << "n=" << n << " g=" << g;
      ASSERT_EQ(q1, q2) << "n=" << n << " g=" << g;
      if (n % 2 == 1) {
        EXPECT_EQ(q1.back() >> 4, 0) << "padding nibble must be zero";
      }
      std::vector<float> d1(n), d2(n);
      scalar_.dequantize_int4(q1.data(), s1.data(), n, g, d1.data());
      vec_->dequantize_int4(q1.data(), s1.data(), n, g, d2.data());
      ASSERT_EQ(0, std::memcmp(d1.data(), d2.data(), n * 4)) << "n=" << n << " g=" << g;
    }
  }
}

// The contract: a group whose Q / absmax is not a finite float quantizes to zeros (its
// scale is still absmax / Q). Every table, int8 and int4.
TEST(KernelsContractTest, GroupsTooSmallForAFiniteMultiplierQuantizeToZero) {
  std::vector<float> x(64);
  for (size_t i = 0; i < x.size(); ++i) {
    x[i] = i % 3 == 0 ? 0.0f : (i % 2 ? 1.9e-38f : -std::numeric_limits<float>::denorm_min());
  }
  for (const char* name : {"scalar", "avx2", "avx512"}) {
    const Kernels* k = KernelsNamed(name);
    if (k == nullptr) continue;
    float s8[2], s4[2];
    std::vector<int8_t> q8(64, 1);
    std::vector<uint8_t> q4(32, 1);
    ASSERT_TRUE(k->quantize_int8(x.data(), 64, 32, s8, q8.data()));
    ASSERT_TRUE(k->quantize_int4(x.data(), 64, 32, s4, q4.data()));
    EXPECT_EQ(q8, std::vector<int8_t>(64, 0)) << name;
    EXPECT_EQ(q4, std::vector<uint8_t>(32, 0x88)) << name;
    EXPECT_EQ(s8[0], 1.9e-38f / 127.0f) << name;
    EXPECT_EQ(s4[1], 1.9e-38f / 7.0f) << name;
  }
}

// Random inputs over the whole float range, groups of similar magnitude like real data:
// every table returns what the scalar one returns and, when it accepts, the same bytes.
// Each trial draws a length, a group size and per-group exponents from -150 (subnormals,
// and the groups too small for a finite multiplier) to 125 (past the 2^120 limit and the
// fp16/bf16 ranges), with zeros, negative zeros, exact ties and the odd non-finite value.
TEST_P(KernelsTest, RandomMagnitudesMatchScalar) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<size_t> length(1, 1500);
  std::uniform_int_distribution<int> group_exp(-150, 125), spread(-12, 0), pick(0, 99);
  std::normal_distribution<float> normal;
  for (int trial = 0; trial < 300; ++trial) {
    const size_t n = length(rng);
    const size_t g = kGroups[trial % 3];
    std::vector<float> x(n);
    int e = 0;
    for (size_t i = 0; i < n; ++i) {
      if (i % g == 0) e = group_exp(rng);
      const int p = pick(rng);
      x[i] = p < 8    ? 0.0f
             : p < 10 ? -0.0f
             : p < 14 ? std::ldexp(static_cast<float>(static_cast<int>(i % 15) - 7) + 0.5f, e)
                      : std::ldexp(normal(rng), e + spread(rng));
    }
    if (trial % 25 == 24) x[n / 2] = std::numeric_limits<float>::infinity();
    const std::string what =
        "trial " + std::to_string(trial) + " n=" + std::to_string(n) + " g=" + std::to_string(g);
    const size_t groups = (n + g - 1) / g;
    std::vector<float> s1(groups), s2(groups);
    std::vector<int8_t> q1(n), q2(n);
    const bool ok8 = scalar_.quantize_int8(x.data(), n, g, s1.data(), q1.data());
    ASSERT_EQ(ok8, vec_->quantize_int8(x.data(), n, g, s2.data(), q2.data())) << what;
    if (ok8) {
      ASSERT_EQ(0, std::memcmp(s1.data(), s2.data(), groups * 4)) << what;
      ASSERT_EQ(q1, q2) << what;
    }
    std::vector<uint8_t> p1((n + 1) / 2), p2((n + 1) / 2);
    const bool ok4 = scalar_.quantize_int4(x.data(), n, g, s1.data(), p1.data());
    ASSERT_EQ(ok4, vec_->quantize_int4(x.data(), n, g, s2.data(), p2.data())) << what;
    if (ok4) {
      ASSERT_EQ(0, std::memcmp(s1.data(), s2.data(), groups * 4)) << what;
      ASSERT_EQ(p1, p2) << what;
      std::vector<float> d1(n), d2(n);
      scalar_.dequantize_int4(p1.data(), s1.data(), n, g, d1.data());
      vec_->dequantize_int4(p1.data(), s1.data(), n, g, d2.data());
      ASSERT_EQ(0, std::memcmp(d1.data(), d2.data(), n * 4)) << what;
    }
    std::vector<uint16_t> h1(n), h2(n);
    const bool ok16 = scalar_.float_to_fp16(x.data(), n, h1.data());
    ASSERT_EQ(ok16, vec_->float_to_fp16(x.data(), n, h2.data())) << what;
    if (ok16) ASSERT_EQ(h1, h2) << what;
    const bool okb = scalar_.float_to_bf16(x.data(), n, h1.data());
    ASSERT_EQ(okb, vec_->float_to_bf16(x.data(), n, h2.data())) << what;
    if (okb) ASSERT_EQ(h1, h2) << what;
  }
}

TEST_P(KernelsTest, HalfFormatsMatchScalar) {
  std::mt19937 rng(7);
  for (size_t n : kLengths) {
    std::vector<float> x = TestInput(n, n);
    // Spread magnitudes over the whole fp16 range, subnormals included.
    std::uniform_int_distribution<int> exp(-26, 15);
    for (size_t i = 1; i < n; i += 3) x[i] = std::ldexp(x[i], exp(rng));
    for (size_t i = 0; i < n; ++i) {
      if (std::fabs(x[i]) >= 65504.0f) x[i] = std::copysign(65504.0f, x[i]);
    }
    std::vector<uint16_t> h1(n), h2(n);
    ASSERT_TRUE(scalar_.float_to_fp16(x.data(), n, h1.data()));
    ASSERT_TRUE(vec_->float_to_fp16(x.data(), n, h2.data()));
    ASSERT_EQ(h1, h2) << "fp16 n=" << n;
    ASSERT_TRUE(scalar_.float_to_bf16(x.data(), n, h1.data()));
    ASSERT_TRUE(vec_->float_to_bf16(x.data(), n, h2.data()));
    ASSERT_EQ(h1, h2) << "bf16 n=" << n;
    std::vector<float> f1(n), f2(n);
    ASSERT_TRUE(scalar_.bf16_to_float(h1.data(), n, f1.data()));
    ASSERT_TRUE(vec_->bf16_to_float(h1.data(), n, f2.data()));
    ASSERT_EQ(0, std::memcmp(f1.data(), f2.data(), n * 4));
    ASSERT_TRUE(scalar_.float_to_fp16(x.data(), n, h1.data()));
    ASSERT_TRUE(scalar_.fp16_to_float(h1.data(), n, f1.data()));
    ASSERT_TRUE(vec_->fp16_to_float(h1.data(), n, f2.data()));
    ASSERT_EQ(0, std::memcmp(f1.data(), f2.data(), n * 4));
  }
}

// Every kernel must report a bad value wherever it sits: in the vector body, in the
// ragged last group, or in the scalar tail.
TEST_P(KernelsTest, BothDetectUnrepresentableValuesAnywhere) {
  const float bad_values[] = {std::numeric_limits<float>::quiet_NaN(),
                              std::numeric_limits<float>::infinity(),
                              -std::numeric_limits<float>::infinity()};
  for (const Kernels* k : {&scalar_, vec_}) {
    for (size_t n : {size_t{33}, size_t{200}, size_t{4097}}) {
      for (size_t pos : {size_t{0}, n / 2, n - 1}) {
        for (float bad : bad_values) {
          std::vector<float> x = TestInput(n, 3);
          x[pos] = bad;
          std::vector<float> scales((n + 31) / 32), out(n);
          std::vector<int8_t> q(n);
          std::vector<uint8_t> p((n + 1) / 2);
          std::vector<uint16_t> h(n);
          EXPECT_FALSE(k->quantize_int8(x.data(), n, 32, scales.data(), q.data()))
              << k->name << " n=" << n << " pos=" << pos;
          EXPECT_FALSE(k->quantize_int4(x.data(), n, 32, scales.data(), p.data()))
              << k->name << " n=" << n << " pos=" << pos;
          EXPECT_FALSE(k->float_to_fp16(x.data(), n, h.data())) << k->name;
          EXPECT_FALSE(k->float_to_bf16(x.data(), n, h.data())) << k->name;
          EXPECT_FALSE(k->copy_finite(x.data(), n, out.data())) << k->name;
          EXPECT_FALSE(k->all_finite(x.data(), n)) << k->name << " n=" << n << " pos=" << pos;
        }
        std::vector<float> x = TestInput(n, 4);
        x[pos] = 2e36f;  // finite, but >= 2^120: refused by the int quantizers only
        {
          std::vector<float> scales((n + 31) / 32), out(n);
          std::vector<int8_t> q(n);
          std::vector<uint8_t> p((n + 1) / 2);
          EXPECT_FALSE(k->quantize_int8(x.data(), n, 32, scales.data(), q.data())) << k->name;
          EXPECT_FALSE(k->quantize_int4(x.data(), n, 32, scales.data(), p.data())) << k->name;
          EXPECT_TRUE(k->copy_finite(x.data(), n, out.data())) << k->name;
          EXPECT_TRUE(k->all_finite(x.data(), n)) << k->name;
        }
        x[pos] = 70000.0f;  // finite but beyond fp16
        std::vector<uint16_t> h(n);
        EXPECT_FALSE(k->float_to_fp16(x.data(), n, h.data())) << k->name << " pos=" << pos;
        EXPECT_TRUE(k->float_to_bf16(x.data(), n, h.data())) << k->name;
        std::vector<uint16_t> halves(n, 0x3c00);
        std::vector<float> out(n);
        halves[pos] = 0x7e00;  // fp16 NaN
        EXPECT_FALSE(k->fp16_to_float(halves.data(), n, out.data())) << k->name;
        halves[pos] = 0x7f80;  // bf16 +inf
        EXPECT_FALSE(k->bf16_to_float(halves.data(), n, out.data())) << k->name;
      }
    }
  }
}

TEST(KernelsDispatchTest, DefaultIsTheBestAvailable) {
  const char* forced = std::getenv("LATENTBUS_CODEC_KERNELS");
  if (forced != nullptr && KernelsNamed(forced) != nullptr) {
    EXPECT_EQ(&DefaultKernels(), KernelsNamed(forced));
  } else if (Avx512Kernels() != nullptr) {
    EXPECT_EQ(&DefaultKernels(), Avx512Kernels());
  } else {
    EXPECT_EQ(&DefaultKernels(), Avx2Kernels() != nullptr ? Avx2Kernels() : &ScalarKernels());
  }
}

TEST(KernelsDispatchTest, NamesFindTheTablesThisCpuRuns) {
  EXPECT_EQ(KernelsNamed("scalar"), &ScalarKernels());
  EXPECT_EQ(KernelsNamed("avx2"), Avx2Kernels());
  EXPECT_EQ(KernelsNamed("avx512"), Avx512Kernels());
  EXPECT_EQ(KernelsNamed("AVX2"), nullptr);
  EXPECT_EQ(KernelsNamed("avx512vnni"), nullptr);
  for (const Kernels* k : {Avx2Kernels(), Avx512Kernels()}) {
    if (k != nullptr) {
      EXPECT_STREQ(KernelsNamed(k->name)->name, k->name);
    }
  }
  // The AVX-512 table has its own int8/int4 kernels and rotation, AVX2's conversions.
  if (const Kernels* k = Avx512Kernels()) {
    EXPECT_NE(k->rotate_rows, Avx2Kernels()->rotate_rows);
    EXPECT_NE(k->quantize_int4, Avx2Kernels()->quantize_int4);
    EXPECT_EQ(k->float_to_fp16, Avx2Kernels()->float_to_fp16);
  }
}

}  // namespace
}  // namespace latentbus::codec
