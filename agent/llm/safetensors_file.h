// Hugging Face safetensors files: a memory-mapped, validated view of the tensors.
//
// Format: u64 little-endian N | N bytes of JSON header | data. The header maps each
// tensor name to {"dtype": "F32"|"F16"|"BF16"|..., "shape": [dims, outermost first],
// "data_offsets": [begin, end]} (relative to the data section), plus an optional
// "__metadata__" object of strings.
//
// Thread safety: immutable after Open; safe for concurrent use.
#ifndef LATENTBUS_AGENT_LLM_SAFETENSORS_FILE_H_
#define LATENTBUS_AGENT_LLM_SAFETENSORS_FILE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace latentbus::agent::llm {

struct SafetensorsTensor {
  std::string name;
  std::string dtype;           // "F32", "F16", "BF16", ...
  std::vector<int64_t> shape;  // outermost first
  const uint8_t* data = nullptr;
  size_t num_bytes = 0;
  size_t num_elements = 0;
};

class SafetensorsFile {
 public:
  // Validates the header (size within the file, JSON, every tensor's dtype, shape and
  // offsets inside the data section, byte count = elements x dtype size).
  static absl::StatusOr<std::unique_ptr<SafetensorsFile>> Open(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }
  const SafetensorsTensor* Find(absl::string_view name) const;

  // Converts F32/F16/BF16 elements to float32; InvalidArgument for other dtypes.
  static absl::Status ToFloat(const SafetensorsTensor& t, float* out);

 private:
  SafetensorsFile() = default;
  std::string path_;
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  std::vector<SafetensorsTensor> tensors_;
  absl::flat_hash_map<std::string, size_t> index_;
};

}  // namespace latentbus::agent::llm

#endif  // LATENTBUS_AGENT_LLM_SAFETENSORS_FILE_H_
