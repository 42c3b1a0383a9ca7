#include "agent/gguf/gguf_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace latentbus::agent::gguf {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kTestData = LATENTBUS_GGUF_TESTDATA;

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

std::string WriteTemp(const std::string& name, const std::vector<uint8_t>& bytes) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  return path;
}

// Little-endian GGUF byte writer for hand-made (often deliberately broken) files.
class Builder {
 public:
  template <typename T>
  Builder& Put(T v) {
    const size_t at = bytes_.size();
    bytes_.resize(at + sizeof(T));
    std::memcpy(&bytes_[at], &v, sizeof(T));
    return *this;
  }
  Builder& U32(uint32_t v) { return Put(v); }
  Builder& U64(uint64_t v) { return Put(v); }
  Builder& Str(const std::string& s) {
    U64(s.size());
    bytes_.insert(bytes_.end(), s.begin(), s.end());
    return *this;
  }
  Builder& Header(uint64_t tensors, uint64_t kvs, uint32_t version = 3) {
    return U32(0x46554747).U32(version).U64(tensors).U64(kvs);
  }
  Builder& KvU32(const std::string& key, uint32_t v) { return Str(key).U32(4).U32(v); }
  Builder& Tensor(const std::string& name, const std::vector<uint64_t>& dims, uint32_t type,
                  uint64_t offset) {
    Str(name).U32(static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) U64(d);
    return U32(type).U64(offset);
  }
  Builder& PadTo(size_t alignment) {
    while (bytes_.size() % alignment != 0) bytes_.push_back(0);
    return *this;
  }
  Builder& Zeros(size_t n) {
    bytes_.resize(bytes_.size() + n);
    return *this;
  }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

// One Q8_0 tensor of `dims` at `offset`, followed by `data_bytes` of data.
std::vector<uint8_t> OneTensorFile(const std::vector<uint64_t>& dims, uint32_t type = 8,
                                   uint64_t offset = 0, size_t data_bytes = 34) {
  Builder b;
  b.Header(1, 1).KvU32("general.alignment", 32).Tensor("t", dims, type, offset).PadTo(32);
  return b.Zeros(data_bytes).bytes();
}

absl::Status OpenBytes(const std::vector<uint8_t>& bytes) {
  return GgufFile::OpenFromMemory("mem.gguf", bytes).status();
}

// Expects InvalidArgument whose message names the file and contains every piece.
template <typename... Pieces>
void ExpectInvalid(const absl::Status& s, Pieces... pieces) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), AllOf(HasSubstr("mem.gguf: "), HasSubstr(pieces)...));
}

TEST(GgufFileTest, ReadsEveryMetadataValueType) {
  absl::StatusOr<std::unique_ptr<GgufFile>> file = GgufFile::Open(kTestData + "/metadata.gguf");
  ASSERT_TRUE(file.ok()) << file.status();
  const GgufFile& f = **file;
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.GetString("general.architecture").value(), "latentbus-test");
  EXPECT_EQ(f.GetInt("test.u8").value(), 255);
  EXPECT_EQ(f.GetInt("test.i8").value(), -128);
  EXPECT_EQ(f.GetInt("test.u16").value(), 65535);
  EXPECT_EQ(f.GetInt("test.i16").value(), -32768);
  EXPECT_EQ(f.GetInt("test.u32").value(), 4294967295);
  EXPECT_EQ(f.GetInt("test.i32").value(), -2147483648);
  EXPECT_EQ(f.GetFloat("test.f32").value(), 1.5);
  EXPECT_EQ(f.GetBool("test.bool").value(), true);
  EXPECT_EQ(f.GetString("test.string").value(), "h\xc3\xa9llo, gguf");
  EXPECT_EQ(f.GetInt("test.u64").value(), INT64_MAX);
  EXPECT_EQ(f.GetInt("test.i64").value(), INT64_MIN);
  EXPECT_EQ(f.GetFloat("test.f64").value(), -2.5e300);
  EXPECT_EQ(f.GetFloat("test.u8").value(), 255.0);  // integers widen to float

  const Value* v = f.Find("test.f32");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->type, ValueType::kF32);

  struct IntArray {
    const char* key;
    ValueType type;
    std::vector<int64_t> values;
  };
  const IntArray kInts[] = {
      {"test.array.u8", ValueType::kU8, {0, 1, 255}},
      {"test.array.i8", ValueType::kI8, {-128, 0, 127}},
      {"test.array.u16", ValueType::kU16, {0, 65535}},
      {"test.array.i16", ValueType::kI16, {-32768, 32767}},
      {"test.array.u32", ValueType::kU32, {0, 4294967295}},
      {"test.array.i32", ValueType::kI32, {-2147483648, 7}},
      {"test.array.bool", ValueType::kBool, {1, 0, 1}},
      {"test.array.u64", ValueType::kU64, {0, INT64_MAX}},
      {"test.array.i64", ValueType::kI64, {INT64_MIN, -1}},
  };
  for (const IntArray& a : kInts) {
    const Value* arr = f.Find(a.key);
    ASSERT_NE(arr, nullptr) << a.key;
    EXPECT_EQ(arr->type, ValueType::kArray) << a.key;
    EXPECT_EQ(arr->array_type, a.type) << a.key;
    EXPECT_EQ(arr->ints, a.values) << a.key;
  }
  const Value* f32s = f.Find("test.array.f32");
  ASSERT_NE(f32s, nullptr);
  EXPECT_EQ(f32s->array_type, ValueType::kF32);
  EXPECT_THAT(f32s->floats, ElementsAre(0.5, -1.25, static_cast<double>(3.0e38f)));
  const Value* f64s = f.Find("test.array.f64");
  ASSERT_NE(f64s, nullptr);
  EXPECT_THAT(f64s->floats, ElementsAre(1.0e-300, -0.25));
  const Value* strs = f.Find("test.array.string");
  ASSERT_NE(strs, nullptr);
  EXPECT_EQ(strs->array_type, ValueType::kString);
  EXPECT_THAT(strs->strings, ElementsAre("a", "",
                                         "\xc3\xbcn\xc3\xaf"
                                         "code"));

  // File order is kept.
  const auto& md = f.metadata();
  ASSERT_GE(md.size(), 24u);
  auto index = [&](const std::string& key) {
    for (size_t i = 0; i < md.size(); ++i) {
      if (md[i].first == key) return i;
    }
    return md.size();
  };
  EXPECT_LT(index("test.u8"), index("test.i8"));
  EXPECT_LT(index("test.f64"), index("test.array.u8"));
}

TEST(GgufFileTest, TypedLookupsReportAbsenceAndMismatch) {
  absl::StatusOr<std::unique_ptr<GgufFile>> file = GgufFile::Open(kTestData + "/metadata.gguf");
  ASSERT_TRUE(file.ok()) << file.status();
  const GgufFile& f = **file;
  absl::Status s = f.GetInt("no.such.key").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("metadata.gguf"), HasSubstr("no.such.key")));
  s = f.GetInt("test.string").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(),
              AllOf(HasSubstr("test.string"), HasSubstr("has type string, not an integer")));
  EXPECT_EQ(f.GetString("test.u8").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(f.GetBool("test.u8").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(f.GetInt("test.bool").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(f.GetFloat("test.array.f32").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(f.GetIntOr("no.such.key", 42).value(), 42);
  EXPECT_EQ(f.GetIntOr("test.i16", 42).value(), -32768);
  EXPECT_EQ(f.GetIntOr("test.string", 42).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(f.GetFloatOr("no.such.key", 0.25).value(), 0.25);
  EXPECT_EQ(f.GetFloatOr("test.f32", 0.25).value(), 1.5);
  EXPECT_EQ(f.GetFloatOr("test.string", 0.25).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(f.Find("no.such.key"), nullptr);
}

TEST(GgufFileTest, TensorsHonourCustomAlignment) {
  absl::StatusOr<std::unique_ptr<GgufFile>> file = GgufFile::Open(kTestData + "/metadata.gguf");
  ASSERT_TRUE(file.ok()) << file.status();
  const GgufFile& f = **file;
  EXPECT_EQ(f.alignment(), 64u);
  EXPECT_EQ(f.data_offset() % 64, 0u);
  ASSERT_EQ(f.tensors().size(), 2u);

  absl::StatusOr<const TensorInfo*> small = f.FindTensor("small.f32");
  ASSERT_TRUE(small.ok()) << small.status();
  EXPECT_EQ((*small)->type, GgmlType::kF32);
  EXPECT_THAT((*small)->dims, ElementsAre(3, 2));
  EXPECT_EQ((*small)->num_elements, 6u);
  EXPECT_EQ((*small)->num_bytes, 24u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>((*small)->data) % 64, 0u);  // mmap is page-aligned
  float values[6];
  std::memcpy(values, (*small)->data, sizeof(values));
  EXPECT_THAT(values, ElementsAre(-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f));

  absl::StatusOr<const TensorInfo*> q = f.FindTensor("small.q8_0");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ((*q)->type, GgmlType::kQ8_0);
  EXPECT_THAT((*q)->dims, ElementsAre(32, 2));
  EXPECT_EQ((*q)->num_bytes, 68u);
  EXPECT_EQ((*q)->offset % 64, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>((*q)->data) % 64, 0u);

  absl::Status missing = f.FindTensor("nope").status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.message(), HasSubstr("'nope'"));
}

TEST(GgufFileTest, AcceptsVersion2) {
  std::vector<uint8_t> bytes = ReadFile(kTestData + "/metadata.gguf");
  bytes[4] = 2;  // v2 and v3 differ only for big-endian files
  absl::StatusOr<std::unique_ptr<GgufFile>> file =
      GgufFile::OpenFromMemory("v2.gguf", std::move(bytes));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ((*file)->version(), 2u);
  EXPECT_EQ((*file)->tensors().size(), 2u);
}

TEST(GgufFileTest, MinimalHandBuiltFileOpens) {
  absl::StatusOr<std::unique_ptr<GgufFile>> file =
      GgufFile::OpenFromMemory("mem.gguf", OneTensorFile({32, 1}));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ((*file)->tensors()[0].num_bytes, 34u);
  // A zero-size tensor is legal (ggml allows zero dims) and has no bytes.
  absl::StatusOr<std::unique_ptr<GgufFile>> empty =
      GgufFile::OpenFromMemory("mem.gguf", OneTensorFile({32, 0}, 8, 0, 0));
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ((*empty)->tensors()[0].num_elements, 0u);
  EXPECT_EQ((*empty)->tensors()[0].num_bytes, 0u);
  // No tensors and no data section: fine.
  EXPECT_TRUE(OpenBytes(Builder().Header(0, 0).bytes()).ok());
}

TEST(GgufFileTest, IoErrorsNameThePath) {
  absl::Status s = GgufFile::Open("/nonexistent/dir/model.gguf").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("/nonexistent/dir/model.gguf"));

  s = GgufFile::Open(::testing::TempDir()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("not a regular file"));

  const std::string empty = WriteTemp("empty.gguf", {});
  s = GgufFile::Open(empty).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr(empty), HasSubstr("too small")));
}

TEST(GgufFileTest, BrokenFileOnDiskIsRefused) {
  std::vector<uint8_t> bytes = OneTensorFile({32, 1});
  bytes.resize(bytes.size() - 1);  // the tensor's last byte is missing
  const std::string path = WriteTemp("truncated.gguf", bytes);
  absl::Status s = GgufFile::Open(path).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr(path), HasSubstr("tensor 't'"),
                                 HasSubstr("lies outside the data section")));
}

TEST(GgufFileTest, RefusesWrongMagicAndVersions) {
  std::vector<uint8_t> bytes = OneTensorFile({32, 1});
  bytes[0] = 'X';
  ExpectInvalid(OpenBytes(bytes), "not a GGUF file");
  ExpectInvalid(OpenBytes(Builder().Header(0, 0, 1).bytes()), "version 1 is not supported");
  ExpectInvalid(OpenBytes(Builder().Header(0, 0, 4).bytes()), "unsupported GGUF version 4");
  ExpectInvalid(OpenBytes(Builder().Header(0, 0, 0x03000000).bytes()), "big-endian");
}

TEST(GgufFileTest, EveryTruncationIsRefusedCleanly) {
  const std::vector<uint8_t> whole = ReadFile(kTestData + "/metadata.gguf");
  absl::StatusOr<std::unique_ptr<GgufFile>> file = GgufFile::OpenFromMemory("whole", whole);
  ASSERT_TRUE(file.ok()) << file.status();
  size_t needed = 0;  // the end of the last tensor's data; only padding follows
  for (const TensorInfo& t : (*file)->tensors()) {
    needed = std::max(needed, (*file)->data_offset() + t.offset + t.num_bytes);
  }
  for (size_t len = 0; len < whole.size(); ++len) {
    absl::Status s =
        OpenBytes(std::vector<uint8_t>(whole.begin(), whole.begin() + static_cast<long>(len)));
    if (len < needed) {
      ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << len << ": " << s;
      ASSERT_THAT(std::string(s.message()), HasSubstr("mem.gguf: ")) << len;
    } else {
      ASSERT_TRUE(s.ok()) << len << ": " << s;
    }
  }
  ExpectInvalid(OpenBytes(std::vector<uint8_t>(whole.begin(), whole.begin() + 6)),
                "truncated: version", "needs 4 bytes at offset 4");
}

TEST(GgufFileTest, RefusesLengthsAndCountsBeyondTheFile) {
  ExpectInvalid(OpenBytes(Builder().Header(0, 1).U64(uint64_t{1} << 62).Zeros(16).bytes()),
                "key of metadata entry 0", "claims 4611686018427387904 bytes");
  ExpectInvalid(OpenBytes(Builder().Header(0, 1).Str("k").U32(8).U64(~uint64_t{0}).bytes()),
                "metadata 'k'", "claims 18446744073709551615 bytes");
  ExpectInvalid(
      OpenBytes(Builder().Header(0, 1).Str("arr").U32(9).U32(4).U64(uint64_t{1} << 40).bytes()),
      "metadata 'arr'", "claims 1099511627776 u32 elements");
  ExpectInvalid(
      OpenBytes(Builder().Header(0, 1).Str("arr").U32(9).U32(8).U64(2).Str("x").U64(100).bytes()),
      "metadata 'arr' element 1", "claims 100 bytes but only 0 remain");
  ExpectInvalid(OpenBytes(Builder().Header(0, uint64_t{1} << 60).bytes()), "metadata count");
  ExpectInvalid(OpenBytes(Builder().Header(uint64_t{1} << 60, 0).bytes()), "tensor count");
}

TEST(GgufFileTest, RefusesMalformedValues) {
  ExpectInvalid(OpenBytes(Builder().Header(0, 1).Str("k").U32(13).U32(0).bytes()),
                "metadata 'k' value type", "13, not a GGUF value type");
  ExpectInvalid(OpenBytes(Builder().Header(0, 1).Str("k").U32(9).U32(9).U64(1).bytes()),
                "arrays of arrays");
  ExpectInvalid(OpenBytes(Builder().Header(0, 1).Str("k").U32(10).U64(~uint64_t{0}).bytes()),
                "metadata 'k'", "above the supported 2^63 - 1");
  ExpectInvalid(OpenBytes(Builder().Header(0, 1).Str("k").U32(7).Put<uint8_t>(2).bytes()),
                "metadata 'k' is a bool with byte value 2");
  ExpectInvalid(OpenBytes(Builder().Header(0, 2).KvU32("k", 1).KvU32("k", 2).bytes()),
                "duplicate metadata key 'k'");
}

TEST(GgufFileTest, RefusesBadAlignment) {
  ExpectInvalid(OpenBytes(Builder().Header(0, 1).KvU32("general.alignment", 48).bytes()),
                "general.alignment 48 is not a power of two");
  ExpectInvalid(OpenBytes(Builder().Header(0, 1).KvU32("general.alignment", 0).bytes()),
                "general.alignment 0");
  ExpectInvalid(OpenBytes(Builder().Header(0, 1).Str("general.alignment").U32(8).Str("32").bytes()),
                "general.alignment has type string");
}

TEST(GgufFileTest, RefusesBadTensorInfo) {
  ExpectInvalid(OpenBytes(OneTensorFile({32, 1}, 99)), "tensor 't' has ggml type 99", "unknown");
  ExpectInvalid(OpenBytes(OneTensorFile({32, 1}, 9)), "tensor 't' has ggml type 9 (Q8_1)",
                "not supported");
  ExpectInvalid(OpenBytes(OneTensorFile({48, 1}, 2)), "tensor 't' row length 48",
                "not a multiple of the Q4_0 block size 32");
  ExpectInvalid(OpenBytes(OneTensorFile({}, 0)), "tensor 't' has 0 dims");
  ExpectInvalid(OpenBytes(OneTensorFile({1, 1, 1, 1, 1}, 0)), "tensor 't' has 5 dims");
  ExpectInvalid(OpenBytes(OneTensorFile({uint64_t{1} << 32, uint64_t{1} << 32}, 0)),
                "tensor 't': element count overflows");
  ExpectInvalid(OpenBytes(OneTensorFile({~uint64_t{0}}, 0)), "tensor 't' dim 0 is");
  ExpectInvalid(OpenBytes(OneTensorFile({32, uint64_t{1} << 40})), "tensor 't' needs",
                "more than the whole file");
  ExpectInvalid(OpenBytes(OneTensorFile({32, 1}, 8, 8)),
                "tensor 't' offset 8 is not a multiple of the alignment 32");
  ExpectInvalid(OpenBytes(OneTensorFile({32, 1}, 8, 64)), "tensor 't' data (offset 64, 34 bytes)",
                "lies outside the data section");
  ExpectInvalid(OpenBytes(OneTensorFile({32, 1}, 8, uint64_t{1} << 63)), "lies outside");

  Builder dup;
  dup.Header(2, 0).Tensor("t", {32}, 8, 0).Tensor("t", {32}, 8, 64).PadTo(32).Zeros(128);
  ExpectInvalid(OpenBytes(dup.bytes()), "duplicate tensor name 't'");

  Builder no_data;
  no_data.Header(1, 0).Tensor("t", {32}, 8, 0);
  ExpectInvalid(OpenBytes(no_data.bytes()), "truncated: the tensor data section starts at");
}

}  // namespace
}  // namespace latentbus::agent::gguf
