// The reader and dequantizers on the two real models (scripts/fetch-models.sh puts them
// in LATENTBUS_MODEL_DIR, default ~/.cache/latentbus/models). Reference values come
// from the gguf Python package, sampled into testdata/real_model_samples.gguf by
// scripts/fixtures/make_gguf_fixtures.py --models. Missing models fail the test (they
// are part of the suite, not optional).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/gguf/ggml_type.h"
#include "agent/gguf/gguf_file.h"
#include "agent/model_cache/model_cache.h"

namespace latentbus::agent::gguf {
namespace {

// Opened once per process: the models are large and immutable.
const GgufFile* Model(const std::string& name) {
  static auto* cache = new std::map<std::string, std::unique_ptr<GgufFile>>();
  auto it = cache->find(name);
  if (it != cache->end()) return it->second.get();
  const std::string path = agent::ModelCachePath(name);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    ADD_FAILURE() << "model file " << path
                  << " is missing: run scripts/fetch-models.sh (or set LATENTBUS_MODEL_DIR)";
    return nullptr;
  }
  absl::StatusOr<std::unique_ptr<GgufFile>> file = GgufFile::Open(path);
  if (!file.ok()) {
    ADD_FAILURE() << file.status();
    return nullptr;
  }
  return cache->emplace(name, *std::move(file)).first->second.get();
}

size_t ArraySize(const GgufFile& f, const std::string& key) {
  const Value* v = f.Find(key);
  if (v == nullptr || v->type != ValueType::kArray) return 0;
  return v->ints.size() + v->floats.size() + v->strings.size();
}

void ExpectEveryTensorSupported(const GgufFile& f) {
  for (const TensorInfo& t : f.tensors()) {
    EXPECT_TRUE(IsSupported(static_cast<uint32_t>(t.type))) << t.name;
    EXPECT_EQ(t.dims[0] % static_cast<int64_t>(BlockElements(t.type)), 0) << t.name;
    EXPECT_EQ(t.offset % f.alignment(), 0u) << t.name;
  }
}

TEST(GgufRealModelTest, SmolLm2Metadata) {
  const GgufFile* f = Model(agent::kSmolLm2File);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->GetString("general.architecture").value(), "llama");
  EXPECT_EQ(f->GetInt("llama.embedding_length").value(), 576);
  EXPECT_EQ(f->GetInt("llama.block_count").value(), 30);
  EXPECT_EQ(f->GetInt("llama.attention.head_count").value(), 9);
  EXPECT_EQ(f->GetInt("llama.attention.head_count_kv").value(), 3);
  EXPECT_FLOAT_EQ(static_cast<float>(f->GetFloat("llama.rope.freq_base").value()), 100000.0f);
  EXPECT_EQ(f->GetString("tokenizer.ggml.model").value(), "gpt2");
  EXPECT_EQ(ArraySize(*f, "tokenizer.ggml.tokens"), 49152u);
  EXPECT_EQ(ArraySize(*f, "tokenizer.ggml.merges"), 48900u);
  EXPECT_EQ(f->GetBool("tokenizer.ggml.add_bos_token").value(), false);
  EXPECT_EQ(f->Find("tokenizer.ggml.tokens")->strings[1], "<|im_start|>");
  EXPECT_EQ(f->tensors().size(), 272u);
  ExpectEveryTensorSupported(*f);
  absl::StatusOr<const TensorInfo*> embd = f->FindTensor("token_embd.weight");
  ASSERT_TRUE(embd.ok()) << embd.status();
  EXPECT_EQ((*embd)->type, GgmlType::kQ8_0);
  EXPECT_THAT((*embd)->dims, ::testing::ElementsAre(576, 49152));
}

TEST(GgufRealModelTest, Gemma3Metadata) {
  const GgufFile* f = Model(agent::kGemma3File);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->GetString("general.architecture").value(), "gemma3");
  EXPECT_EQ(f->GetInt("gemma3.embedding_length").value(), 640);
  EXPECT_EQ(f->GetInt("gemma3.block_count").value(), 18);
  EXPECT_EQ(f->GetInt("gemma3.attention.key_length").value(), 256);
  EXPECT_EQ(f->GetInt("gemma3.attention.sliding_window").value(), 512);
  EXPECT_EQ(f->GetString("tokenizer.ggml.model").value(), "llama");
  EXPECT_EQ(ArraySize(*f, "tokenizer.ggml.tokens"), 262144u);
  EXPECT_EQ(ArraySize(*f, "tokenizer.ggml.scores"), 262144u);
  EXPECT_EQ(ArraySize(*f, "tokenizer.ggml.token_type"), 262144u);
  EXPECT_EQ(f->GetInt("tokenizer.ggml.bos_token_id").value(), 2);
  EXPECT_EQ(f->tensors().size(), 236u);
  ExpectEveryTensorSupported(*f);
  std::map<GgmlType, int> types;
  for (const TensorInfo& t : f->tensors()) ++types[t.type];
  EXPECT_EQ(types[GgmlType::kQ4_K], 27);
  EXPECT_EQ(types[GgmlType::kQ6_K], 9);
  EXPECT_EQ(types[GgmlType::kQ5_0], 81);
  EXPECT_EQ(types[GgmlType::kQ8_0], 10);
  EXPECT_EQ(types[GgmlType::kF32], 109);
}

struct Sums {
  double sum = 0, abs_sum = 0, weighted_sum = 0;
  double seconds = 0;
  bool finite = true;
};

// Dequantizes the whole tensor row by row; weights match the fixture script's
// (column % 17 - 8), which makes the sum sensitive to element order within a row.
Sums Summarize(const TensorInfo& t) {
  Sums s;
  const size_t row = static_cast<size_t>(t.dims[0]);
  const size_t rows = t.num_elements / row;
  const size_t row_bytes = RowBytes(t.type, row);
  std::vector<float> out(row);
  const auto start = std::chrono::steady_clock::now();
  for (size_t r = 0; r < rows; ++r) {
    absl::Status st = Dequantize(t.type, t.data + r * row_bytes, row, out.data());
    EXPECT_TRUE(st.ok()) << st;
    double sum = 0, abs_sum = 0, weighted = 0;
    for (size_t j = 0; j < row; ++j) {
      const double v = out[j];
      s.finite = s.finite && std::isfinite(out[j]);
      sum += v;
      abs_sum += std::fabs(v);
      weighted += v * static_cast<double>(static_cast<int>(j % 17) - 8);
    }
    s.sum += sum;
    s.abs_sum += abs_sum;
    s.weighted_sum += weighted;
  }
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return s;
}

// Sampled rows must match the reference bit for bit (see ggml_type_test.cc for why no
// tolerance is needed); whole-tensor float64 sums within 1e-9 of the absolute sum,
// room for summation-order differences (ours sequential per row, numpy's pairwise)
// that is orders of magnitude below any dequantization error.
TEST(GgufRealModelTest, MatchesGgufPythonReferenceSamples) {
  absl::StatusOr<std::unique_ptr<GgufFile>> samples =
      GgufFile::Open(std::string(LATENTBUS_GGUF_TESTDATA) + "/real_model_samples.gguf");
  ASSERT_TRUE(samples.ok()) << samples.status();
  std::map<std::string, int> per_type;
  for (const TensorInfo& sample : (*samples)->tensors()) {
    SCOPED_TRACE(sample.name);
    const size_t slash = sample.name.find('/');
    ASSERT_NE(slash, std::string::npos);
    const GgufFile* model = Model(sample.name.substr(0, slash));
    ASSERT_NE(model, nullptr);
    absl::StatusOr<const TensorInfo*> found = model->FindTensor(sample.name.substr(slash + 1));
    ASSERT_TRUE(found.ok()) << found.status();
    const TensorInfo& t = **found;
    const GgufFile& s = **samples;
    EXPECT_EQ(TypeName(t.type), s.GetString(sample.name + ".type").value());
    EXPECT_EQ(t.dims, s.Find(sample.name + ".dims")->ints);
    ++per_type[TypeName(t.type)];

    const std::vector<int64_t>& rows = s.Find(sample.name + ".rows")->ints;
    const size_t width = static_cast<size_t>(sample.dims[0]);
    const size_t row = static_cast<size_t>(t.dims[0]);
    ASSERT_EQ(static_cast<size_t>(sample.dims[1]), rows.size());
    std::vector<float> out(row);
    for (size_t k = 0; k < rows.size(); ++k) {
      const uint8_t* src = t.data + static_cast<size_t>(rows[k]) * RowBytes(t.type, row);
      ASSERT_TRUE(Dequantize(t.type, src, row, out.data()).ok());
      std::vector<float> want(width);
      std::memcpy(want.data(), sample.data + k * width * sizeof(float), width * sizeof(float));
      for (size_t j = 0; j < width; ++j) {
        uint32_t got_bits, want_bits;
        std::memcpy(&got_bits, &out[j], 4);
        std::memcpy(&want_bits, &want[j], 4);
        ASSERT_EQ(got_bits, want_bits) << "row " << rows[k] << " column " << j << ": got " << out[j]
                                       << ", reference " << want[j];
      }
    }

    const Sums sums = Summarize(t);
    EXPECT_TRUE(sums.finite);
    const double ref_abs = s.GetFloat(sample.name + ".abs_sum").value();
    const double tol = 1e-9 * ref_abs;
    EXPECT_NEAR(sums.abs_sum, ref_abs, tol);
    EXPECT_NEAR(sums.sum, s.GetFloat(sample.name + ".sum").value(), tol);
    EXPECT_NEAR(sums.weighted_sum, s.GetFloat(sample.name + ".weighted_sum").value(), 8 * tol);
    std::printf("[ info ] %s (%s, %zu elements): dequantized in %.1f ms, %.0f M elements/s\n",
                sample.name.c_str(), TypeName(t.type), t.num_elements, sums.seconds * 1e3,
                static_cast<double>(t.num_elements) / sums.seconds / 1e6);
  }
  for (const char* type : {"F32", "Q8_0", "Q4_1", "Q5_0", "Q4_K", "Q6_K"}) {
    EXPECT_GT(per_type[type], 0) << type << " not covered by the samples";
  }
}

// Every weight of both models dequantizes, and to finite values.
TEST(GgufRealModelTest, EveryTensorDequantizesToFiniteValues) {
  for (const char* name : {agent::kSmolLm2File, agent::kGemma3File}) {
    const GgufFile* f = Model(name);
    ASSERT_NE(f, nullptr) << name;
    size_t elements = 0;
    for (const TensorInfo& t : f->tensors()) {
      const size_t row = static_cast<size_t>(t.dims[0]);
      std::vector<float> out(row);
      bool finite = true;
      for (size_t r = 0; r < t.num_elements / row; ++r) {
        ASSERT_TRUE(Dequantize(t.type, t.data + r * RowBytes(t.type, row), row, out.data()).ok());
        for (float v : out) finite = finite && std::isfinite(v);
      }
      EXPECT_TRUE(finite) << name << " " << t.name;
      elements += t.num_elements;
    }
    EXPECT_GT(elements, size_t{100'000'000}) << name;
  }
}

// Dequantization speed of one Q4_K weight next to a memcpy of its float output (the
// floor for any dequantizer that writes floats), measured in the same run.
TEST(GgufRealModelTest, Q4KThroughput) {
  const GgufFile* f = Model(agent::kGemma3File);
  ASSERT_NE(f, nullptr);
  absl::StatusOr<const TensorInfo*> t = f->FindTensor("blk.0.attn_output.weight");
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ((*t)->type, GgmlType::kQ4_K);
  const size_t n = (*t)->num_elements;
  std::vector<float> out(n), copy(n);
  constexpr int kReps = 20;
  auto time = [&](auto&& fn) {
    fn();  // warm-up
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kReps; ++i) fn();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / kReps;
  };
  const double deq =
      time([&] { ASSERT_TRUE(Dequantize((*t)->type, (*t)->data, n, out.data()).ok()); });
  const double mem = time([&] { std::memcpy(copy.data(), out.data(), n * sizeof(float)); });
  std::printf(
      "[ info ] Q4_K dequantize %zu elements: %.0f M elements/s (%.2f GB/s of floats); "
      "memcpy of the floats: %.2f GB/s\n",
      n, static_cast<double>(n) / deq / 1e6, static_cast<double>(n * sizeof(float)) / deq / 1e9,
      static_cast<double>(n * sizeof(float)) / mem / 1e9);
}

}  // namespace
}  // namespace latentbus::agent::gguf
