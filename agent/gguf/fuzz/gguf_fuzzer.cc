// libFuzzer target: arbitrary bytes as a GGUF file, through the same parser that Open
// uses on a mapped file (GgufFile::OpenFromMemory), then every tensor dequantized.
// The bytes are copied into an exactly sized buffer, so ASan reports any read past the
// end. Invariants beyond "no crash, no sanitizer report": every refusal explains itself
// and names the input; every accepted tensor lies inside the data section; typed
// lookups agree with the parsed value types.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "agent/gguf/ggml_type.h"
#include "agent/gguf/gguf_file.h"

namespace {

using latentbus::agent::gguf::GgufFile;
using latentbus::agent::gguf::TensorInfo;

constexpr size_t kMaxDequantizedElements = size_t{1} << 20;  // per input, keeps runs fast

void CheckTensor(const GgufFile& file, const TensorInfo& t, size_t* budget) {
  const size_t section = file.file_size() - file.data_offset();  // data_offset <= size
  if (file.data_offset() > file.file_size() || t.offset > section ||
      t.num_bytes > section - t.offset) {
    std::abort();
  }
  if (t.dims.empty() || t.dims[0] < 0) std::abort();
  if (latentbus::agent::gguf::RowBytes(t.type, t.num_elements) != t.num_bytes) std::abort();
  if (t.num_elements > *budget) return;
  *budget -= t.num_elements;
  std::vector<float> out(t.num_elements);
  if (!latentbus::agent::gguf::Dequantize(t.type, t.data, t.num_elements, out.data()).ok()) {
    std::abort();  // Open accepted the type and shape, so this must succeed
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::StatusOr<std::unique_ptr<GgufFile>> file =
      GgufFile::OpenFromMemory("fuzz-input", std::vector<uint8_t>(data, data + size));
  if (!file.ok()) {
    if (file.status().message().find("fuzz-input: ") != 0) std::abort();
    return 0;
  }
  for (const auto& [key, value] : (*file)->metadata()) {
    if ((*file)->Find(key) == nullptr) std::abort();
    (void)(*file)->GetInt(key);
    (void)(*file)->GetFloat(key);
    (void)(*file)->GetString(key);
    (void)(*file)->GetBool(key);
  }
  size_t budget = kMaxDequantizedElements;
  for (const TensorInfo& t : (*file)->tensors()) {
    absl::StatusOr<const TensorInfo*> found = (*file)->FindTensor(t.name);
    if (!found.ok() || *found != &t) std::abort();
    CheckTensor(**file, t, &budget);
  }
  return 0;
}
