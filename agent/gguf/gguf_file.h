// GGUF files: a memory-mapped, validated view of metadata and tensors.
//
// Format (version 2 and 3; all integers little-endian):
//   u32 magic "GGUF" (0x46554747) | u32 version | u64 tensor_count | u64 kv_count
//   kv_count x { string key | u32 value_type | value }
//   tensor_count x { string name | u32 n_dims | u64 dims[n_dims] | u32 ggml_type | u64 offset }
//   padding to `general.alignment` (default 32), then the tensor data section; each
//   tensor's data starts at data_section + offset (offset a multiple of the alignment).
//   string = u64 length + bytes (no terminator).
//   value types: 0 u8, 1 i8, 2 u16, 3 i16, 4 u32, 5 i32, 6 f32, 7 bool (u8), 8 string,
//   9 array (u32 element type + u64 count + elements), 10 u64, 11 i64, 12 f64.
//   dims are innermost first: dims[0] is the row length (contiguous elements).
//
// Limits: general.alignment must be a power of two up to 2^30; tensors have 1 to 4 dims;
// a u64 metadata value above 2^63 - 1 is refused; arrays of arrays are refused. Every
// length and count is checked against the bytes that remain before anything is
// allocated, so a hostile file costs at most a small multiple of its own size in memory.
//
// Thread safety: a GgufFile is immutable after Open; all methods are const and safe to
// call concurrently. Tensor data pointers stay valid for the GgufFile's lifetime. A
// mapped file that another process truncates while it is open raises SIGBUS on access
// (as for any mmap); model files are expected to be immutable.
#ifndef LATENTBUS_AGENT_GGUF_GGUF_FILE_H_
#define LATENTBUS_AGENT_GGUF_GGUF_FILE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "agent/gguf/ggml_type.h"

namespace latentbus::agent::gguf {

enum class ValueType : uint32_t {
  kU8 = 0,
  kI8 = 1,
  kU16 = 2,
  kI16 = 3,
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kU64 = 10,
  kI64 = 11,
  kF64 = 12,
};

// One metadata value. Scalars are widened on parse; arrays keep their element type.
struct Value {
  ValueType type = ValueType::kU8;
  ValueType array_type = ValueType::kU8;  // element type when type == kArray
  int64_t i = 0;               // all integer types and bool (u64 values above 2^63 are refused)
  double f = 0.0;              // f32 / f64
  std::string s;               // string
  std::vector<int64_t> ints;   // integer / bool arrays
  std::vector<double> floats;  // f32 / f64 arrays
  std::vector<std::string> strings;  // string arrays
};

struct TensorInfo {
  std::string name;
  std::vector<int64_t> dims;  // innermost first, as in the file
  GgmlType type = GgmlType::kF32;
  uint64_t offset = 0;  // relative to the data section
  size_t num_elements = 0;
  size_t num_bytes = 0;
  // Into the mapping; aligned to general.alignment (up to the page size) for Open.
  const uint8_t* data = nullptr;
};

class GgufFile {
 public:
  // Maps and validates the whole file: magic, version, every string and array length,
  // tensor types, shapes (a row must be a whole number of blocks), and that every
  // tensor's bytes lie inside the file. A tensor type IsSupported rejects is an error.
  // Errors name the file and what is wrong (InvalidArgument for malformed content,
  // NotFound / PermissionDenied / the errno's code for I/O).
  static absl::StatusOr<std::unique_ptr<GgufFile>> Open(const std::string& path);

  // The same parser and checks over bytes already in memory, which the GgufFile takes
  // (tests, the fuzzer, embedded files). `name` stands for the path in messages and
  // path(). Tensor data is then only as aligned as the vector's allocation.
  static absl::StatusOr<std::unique_ptr<GgufFile>> OpenFromMemory(std::string name,
                                                                  std::vector<uint8_t> bytes);

  ~GgufFile();
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  size_t file_size() const { return size_; }
  // general.alignment (32 when absent), and where the tensor data section starts.
  size_t alignment() const { return alignment_; }
  size_t data_offset() const { return data_offset_; }

  // Metadata, in file order and by key.
  const std::vector<std::pair<std::string, Value>>& metadata() const { return metadata_; }
  const Value* Find(absl::string_view key) const;

  // Typed lookups: NotFound when absent, InvalidArgument on a type mismatch.
  absl::StatusOr<int64_t> GetInt(absl::string_view key) const;
  absl::StatusOr<double> GetFloat(absl::string_view key) const;  // accepts integers too
  absl::StatusOr<std::string> GetString(absl::string_view key) const;
  absl::StatusOr<bool> GetBool(absl::string_view key) const;
  // Defaults when absent (a present key of the wrong type is still an error).
  absl::StatusOr<int64_t> GetIntOr(absl::string_view key, int64_t fallback) const;
  absl::StatusOr<double> GetFloatOr(absl::string_view key, double fallback) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  // NotFound naming the tensor when absent.
  absl::StatusOr<const TensorInfo*> FindTensor(absl::string_view name) const;

 private:
  GgufFile() = default;
  absl::Status Parse();

  std::string path_;
  int fd_ = -1;                 // open while mapped (Open only)
  std::vector<uint8_t> owned_;  // the bytes (OpenFromMemory only)
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  uint32_t version_ = 0;
  size_t alignment_ = 32;
  size_t data_offset_ = 0;
  std::vector<std::pair<std::string, Value>> metadata_;
  absl::flat_hash_map<std::string, size_t> metadata_index_;
  std::vector<TensorInfo> tensors_;
  absl::flat_hash_map<std::string, size_t> tensor_index_;
};

}  // namespace latentbus::agent::gguf

#endif  // LATENTBUS_AGENT_GGUF_GGUF_FILE_H_
