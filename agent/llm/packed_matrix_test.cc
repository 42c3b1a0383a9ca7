// PackedMatrix against gguf::Dequantize (exactly the same floats, on random blocks and
// on every packable tensor type of the two real models), and the kernels against a
// double-precision product of those floats: with float activations, and with the
// activations rounded to int8 blocks (against the product of the rounded values, and
// within the rounding's bound of the exact product).
#include "agent/llm/packed_matrix.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <vector>

#include "agent/gguf/gguf_file.h"
#include "agent/llm/packed_kernels.h"
#include "agent/model_cache/model_cache.h"
#include "codec/half.h"

namespace latentbus::agent::llm {
namespace {

using gguf::GgmlType;

const GgmlType kPackable[] = {GgmlType::kQ8_0, GgmlType::kQ5_0, GgmlType::kQ6_K, GgmlType::kQ4_1,
                              GgmlType::kQ4_K};

// Random GGUF blocks: random bytes, with every fp16 field a finite value of a realistic
// magnitude (a random fp16 bit pattern would hold infinities and NaNs).
std::vector<uint8_t> RandomBlocks(GgmlType type, size_t rows, size_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  const size_t block = gguf::BlockElements(type), bytes = gguf::BlockBytes(type);
  std::vector<uint8_t> out(rows * cols / block * bytes);
  for (uint8_t& b : out) b = static_cast<uint8_t>(rng());
  std::uniform_real_distribution<float> magnitude(-0.05f, 0.05f);
  auto half = [&](uint8_t* p) {
    const uint16_t h = codec::FloatToHalf(magnitude(rng));
    std::memcpy(p, &h, 2);
  };
  for (size_t i = 0; i < out.size(); i += bytes) {
    uint8_t* b = out.data() + i;
    switch (type) {
      case GgmlType::kQ4_1:
      case GgmlType::kQ4_K:
        half(b);
        half(b + 2);
        break;
      case GgmlType::kQ6_K:
        half(b + 208);
        break;
      default:
        half(b);
    }
  }
  return out;
}

std::vector<float> Reference(GgmlType type, const uint8_t* data, size_t n) {
  std::vector<float> out(n);
  EXPECT_TRUE(gguf::Dequantize(type, data, n, out.data()).ok());
  return out;
}

std::vector<float> RandomVector(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(n);
  for (float& v : x) v = normal(rng);
  return x;
}

// Checks `kernels` on `m` (whose floats are `dense`): the product against a double
// reference, and the dequantized rows bit for bit.
void ExpectKernelsAgree(const PackedKernels& kernels, const PackedMatrix& m,
                        const std::vector<float>& dense) {
  const std::vector<float> x = RandomVector(m.cols(), 7);
  std::vector<float> sums(m.cols() / 32);
  GroupSums(x.data(), m.cols(), 32, sums.data());
  std::vector<float> y(m.rows());
  kernels.gemv(m.view(), x.data(), sums.data(), y.data(), 0, m.rows());
  for (size_t r = 0; r < m.rows(); ++r) {
    double want = 0, magnitude = 0;
    for (size_t c = 0; c < m.cols(); ++c) {
      want += static_cast<double>(dense[r * m.cols() + c]) * x[c];
      magnitude += std::fabs(static_cast<double>(dense[r * m.cols() + c]) * x[c]);
    }
    ASSERT_NEAR(y[r], want, 1e-5 * magnitude + 1e-30)
        << kernels.name << " row " << r << " of " << m.rows();
  }
  // A row range in the middle writes only its rows.
  if (m.rows() >= 3) {
    std::vector<float> part(1, -1);
    kernels.gemv(m.view(), x.data(), sums.data(), part.data(), 1, 2);
    EXPECT_FLOAT_EQ(part[0], y[1]) << kernels.name;
  }
  // Int8 activations: the product of the rounded row (group sums of the exact one for the
  // min term), and no further from the exact product than the rounding allows.
  Int8Blocks xq;
  QuantizeActivations(x.data(), m.cols(), &xq);
  std::vector<float> yq(m.rows());
  kernels.gemv_int8(m.view(), xq.q.data(), xq.scales.data(), sums.data(), yq.data(), 0, m.rows());
  const size_t groups = m.groups_per_row();
  for (size_t r = 0; r < m.rows(); ++r) {
    double want = 0, magnitude = 0, bound = 0;
    for (size_t c = 0; c < m.cols(); ++c) {
      const double w = dense[r * m.cols() + c];
      const double rounded = static_cast<double>(xq.scales[c / 32]) * xq.q[c];
      // kInt4: the min term multiplies the exact sums, not the rounded values.
      const double min =
          m.layout() == PackedMatrix::Layout::kInt4 ? m.mins()[r * groups + c / 32] : 0.0;
      want += (w - min) * rounded + min * x[c];
      magnitude += std::fabs(w * rounded) + std::fabs(min * x[c]);
      bound += std::fabs(w - min) * xq.scales[c / 32] / 2;
    }
    ASSERT_NEAR(yq[r], want, 1e-5 * magnitude + 1e-30)
        << kernels.name << " int8 activations, row " << r << " of " << m.rows();
    EXPECT_LE(std::fabs(yq[r] - y[r]), bound * 1.001 + 1e-5 * magnitude) << kernels.name;
  }
  if (m.rows() >= 3) {
    std::vector<float> part(1, -1);
    kernels.gemv_int8(m.view(), xq.q.data(), xq.scales.data(), sums.data(), part.data(), 1, 2);
    EXPECT_FLOAT_EQ(part[0], yq[1]) << kernels.name;
  }
  std::vector<float> rows(m.rows() * m.cols());
  kernels.dequantize(m.view(), 0, m.rows(), rows.data());
  ASSERT_EQ(std::memcmp(rows.data(), dense.data(), rows.size() * sizeof(float)), 0)
      << kernels.name << " dequantizes to other floats";
  if (m.rows() >= 2) {
    std::vector<float> second(m.cols());
    kernels.dequantize(m.view(), 1, 2, second.data());
    EXPECT_EQ(std::memcmp(second.data(), dense.data() + m.cols(), m.cols() * sizeof(float)), 0);
  }
}

// Every variant this CPU runs (the AVX-512 ones run on emulated CPUs too:
// tests/emulated/).
std::vector<const PackedKernels*> AllKernels() {
  std::vector<const PackedKernels*> all;
  for (const char* name : {"scalar", "avx2", "avx2vnni", "avx512", "avx512vnni"}) {
    if (const PackedKernels* k = PackedKernelsNamed(name, codec::DetectCpuFeatures())) {
      all.push_back(k);
    }
  }
  return all;
}

TEST(PackedMatrixTest, RandomBlocksRepackToTheSameFloatsAndMultiplyRight) {
  uint32_t seed = 1;
  for (GgmlType type : kPackable) {
    const size_t rows = 5, cols = 2 * gguf::BlockElements(type) + 256;
    const std::vector<uint8_t> blocks = RandomBlocks(type, rows, cols, seed++);
    absl::StatusOr<PackedMatrix> m = PackedMatrix::FromGguf(type, blocks.data(), rows, cols);
    ASSERT_TRUE(m.ok()) << m.status();
    const std::vector<float> dense = Reference(type, blocks.data(), rows * cols);
    std::vector<float> mine(rows * cols);
    m->DequantizeRows(0, rows, mine.data());
    ASSERT_EQ(std::memcmp(mine.data(), dense.data(), mine.size() * sizeof(float)), 0)
        << gguf::TypeName(type);
    for (const PackedKernels* k : AllKernels()) {
      SCOPED_TRACE(gguf::TypeName(type));
      ExpectKernelsAgree(*k, *m, dense);
    }
  }
}

TEST(PackedMatrixTest, PacksInFewerBytesThanFloats) {
  const std::vector<uint8_t> q4 = RandomBlocks(GgmlType::kQ4_K, 4, 256, 3);
  absl::StatusOr<PackedMatrix> m = PackedMatrix::FromGguf(GgmlType::kQ4_K, q4.data(), 4, 256);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->layout(), PackedMatrix::Layout::kInt4);
  EXPECT_EQ(m->bytes(), 4u * 256 / 2 + 4u * 8 * 2 * sizeof(float));  // 0.75 bytes an element
  const std::vector<uint8_t> q6 = RandomBlocks(GgmlType::kQ6_K, 4, 256, 4);
  m = PackedMatrix::FromGguf(GgmlType::kQ6_K, q6.data(), 4, 256);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->layout(), PackedMatrix::Layout::kInt8);
  EXPECT_EQ(m->group(), 16u);
  EXPECT_EQ(m->bytes(), 4u * 256 + 4u * 16 * sizeof(float));
}

TEST(PackedMatrixTest, RefusesWhatItCannotPack) {
  EXPECT_FALSE(PackedMatrix::CanPack(GgmlType::kF32));
  EXPECT_FALSE(PackedMatrix::CanPack(GgmlType::kQ2_K));
  const std::vector<uint8_t> bytes(4096);
  EXPECT_FALSE(PackedMatrix::FromGguf(GgmlType::kF16, bytes.data(), 2, 48).ok());  // not 32k
  EXPECT_FALSE(PackedMatrix::FromHalf(PackedLayout::kInt8, bytes.data(), 2, 64).ok());
  EXPECT_FALSE(PackedMatrix::FromGguf(GgmlType::kQ8_0, bytes.data(), 2, 48).ok());  // 1.5 blocks
  EXPECT_FALSE(PackedMatrix::FromGguf(GgmlType::kQ8_0, bytes.data(), 2, 0).ok());
}

// F16 and BF16 matrices stay 16-bit: the same floats as the GGUF dequantizer, half the
// bytes of float32, and every kernel variant multiplies them right.
TEST(PackedMatrixTest, SixteenBitFloatsStayAsStoredAndMultiplyRight) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  const size_t rows = 5, cols = 96;
  for (GgmlType type : {GgmlType::kF16, GgmlType::kBF16}) {
    SCOPED_TRACE(gguf::TypeName(type));
    std::vector<uint16_t> bits(rows * cols);
    for (uint16_t& b : bits) {
      const float v = normal(rng);
      b = type == GgmlType::kF16 ? codec::FloatToHalf(v) : codec::FloatToBf16(v);
    }
    const auto* data = reinterpret_cast<const uint8_t*>(bits.data());
    absl::StatusOr<PackedMatrix> m = PackedMatrix::FromGguf(type, data, rows, cols);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->layout(), type == GgmlType::kF16 ? PackedLayout::kF16 : PackedLayout::kBF16);
    EXPECT_EQ(m->bytes(), rows * cols * 2);
    const std::vector<float> dense = Reference(type, data, rows * cols);
    std::vector<float> mine(rows * cols);
    m->DequantizeRows(0, rows, mine.data());
    ASSERT_EQ(std::memcmp(mine.data(), dense.data(), mine.size() * sizeof(float)), 0);
    for (const PackedKernels* k : AllKernels()) ExpectKernelsAgree(*k, *m, dense);
  }
}

TEST(PackedMatrixTest, GroupSums) {
  std::vector<float> x(64);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i);
  std::vector<float> sums(2);
  GroupSums(x.data(), 64, 32, sums.data());
  EXPECT_FLOAT_EQ(sums[0], 31.0f * 32 / 2);
  EXPECT_FLOAT_EQ(sums[1], 32.0f * 32 + 31.0f * 32 / 2);
}

TEST(PackedMatrixTest, QuantizeActivationsRoundsToTheNearestStep) {
  std::vector<float> x = RandomVector(96, 11);
  for (size_t j = 32; j < 64; ++j) x[j] = 0;  // an all-zero block
  x[70] = -1000;                              // a block whose largest value is negative
  Int8Blocks q;
  QuantizeActivations(x.data(), x.size(), &q);
  ASSERT_EQ(q.q.size(), 96u);
  ASSERT_EQ(q.scales.size(), 3u);
  EXPECT_EQ(q.scales[1], 0.0f);
  EXPECT_FLOAT_EQ(q.scales[2], 1000.0f / 127);
  EXPECT_EQ(q.q[70], -127);
  for (size_t j = 0; j < x.size(); ++j) {
    EXPECT_GE(q.q[j], -127);
    EXPECT_NEAR(q.scales[j / 32] * q.q[j], x[j], q.scales[j / 32] * 0.5001f) << j;
  }
}

// The extremes of the integer arithmetic: weights of -128 (Q8_0 allows it) against
// activations of +-127, where a pair of products comes closest to the int16 limit.
TEST(PackedMatrixTest, Int8ActivationsAtTheIntegerExtremes) {
  const size_t rows = 4, cols = 64;
  std::vector<uint8_t> blocks = RandomBlocks(GgmlType::kQ8_0, rows, cols, 5);
  for (size_t b = 0; b < blocks.size(); b += 34) {
    for (size_t j = 0; j < 32; ++j) blocks[b + 2 + j] = 0x80;  // -128
  }
  absl::StatusOr<PackedMatrix> m =
      PackedMatrix::FromGguf(GgmlType::kQ8_0, blocks.data(), rows, cols);
  ASSERT_TRUE(m.ok());
  std::vector<float> x(cols);
  for (size_t j = 0; j < cols; ++j) x[j] = j % 3 == 0 ? -2.0f : 2.0f;
  Int8Blocks xq;
  QuantizeActivations(x.data(), cols, &xq);
  for (const PackedKernels* k : AllKernels()) {
    std::vector<float> y(rows);
    k->gemv_int8(m->view(), xq.q.data(), xq.scales.data(), nullptr, y.data(), 0, rows);
    for (size_t r = 0; r < rows; ++r) {
      double want = 0;
      for (size_t c = 0; c < cols; ++c) {
        want += static_cast<double>(m->scales()[r * 2 + c / 32]) * -128 * x[c];
      }
      EXPECT_NEAR(y[r], want, 1e-5 * std::fabs(want)) << k->name << " row " << r;
    }
  }
}

// Every packable type in the two real files: the first tensor of each, first rows.
TEST(PackedMatrixTest, RealModelTensorsRepackExactly) {
  std::map<GgmlType, int> seen;
  for (const char* file : {kSmolLm2File, kGemma3File}) {
    const std::string path = ModelCachePath(file);
    ASSERT_TRUE(std::ifstream(path).good()) << path << " is missing: run scripts/fetch-models.sh";
    absl::StatusOr<std::unique_ptr<gguf::GgufFile>> f = gguf::GgufFile::Open(path);
    ASSERT_TRUE(f.ok()) << f.status();
    std::map<GgmlType, bool> done;
    for (const gguf::TensorInfo& t : (*f)->tensors()) {
      if (!PackedMatrix::CanPack(t.type) || t.dims.size() != 2 || done[t.type]) continue;
      done[t.type] = true;
      ++seen[t.type];
      const size_t cols = static_cast<size_t>(t.dims[0]);
      const size_t rows = std::min<size_t>(static_cast<size_t>(t.dims[1]), 64);
      absl::StatusOr<PackedMatrix> m = PackedMatrix::FromGguf(t.type, t.data, rows, cols);
      ASSERT_TRUE(m.ok()) << t.name << ": " << m.status();
      const std::vector<float> dense = Reference(t.type, t.data, rows * cols);
      for (const PackedKernels* k : AllKernels()) {
        SCOPED_TRACE(t.name);
        ExpectKernelsAgree(*k, *m, dense);
      }
    }
  }
  for (GgmlType type : kPackable) EXPECT_GT(seen[type], 0) << gguf::TypeName(type) << " not met";
}

}  // namespace
}  // namespace latentbus::agent::llm
