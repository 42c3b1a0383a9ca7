// A small safetensors writer and reader for the bridge's own files (activation files and
// bridge artifacts). Plain C++: no torch, no agent/llm.
//
// Format: u64 little-endian N | N bytes of JSON header (padded with spaces to a multiple
// of 8) | data. The header maps each tensor name to {"dtype", "shape", "data_offsets":
// [begin, end]} relative to the data section, plus "__metadata__": {string: string}.
// Supported dtypes: F32, BF16 (read back widened to float; written from floats rounded
// to nearest even by WriteSafetensors when a view says "BF16"), I32, I64.
//
// Thread safety: free functions over caller-owned values; no shared state.
#ifndef LATENTBUS_BRIDGE_SAFETENSORS_IO_H_
#define LATENTBUS_BRIDGE_SAFETENSORS_IO_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace latentbus::bridge {

// A tensor to write: the caller keeps `data` alive for the duration of the write.
struct TensorView {
  std::string name;
  std::string dtype;  // "F32", "BF16" (data: floats, stored rounded), "I32", "I64"
  std::vector<int64_t> shape;
  const void* data = nullptr;
};

// A tensor read back (owning its bytes, little-endian).
struct StoredTensor {
  std::string dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;

  size_t NumElements() const;
  // Copies to `out` (resized); InvalidArgument when the dtype differs. CopyFloats takes
  // F32 or BF16.
  absl::Status CopyFloats(std::vector<float>* out) const;
  absl::Status CopyInt32(std::vector<int32_t>* out) const;
  absl::Status CopyInt64(std::vector<int64_t>* out) const;
};

struct SafetensorsContents {
  std::map<std::string, std::string> metadata;
  std::map<std::string, StoredTensor> tensors;
};

// Writes atomically enough for our use (to `path`); Internal on I/O errors,
// InvalidArgument on an unknown dtype or a missing data pointer.
absl::Status WriteSafetensors(const std::string& path,
                              const std::map<std::string, std::string>& metadata,
                              const std::vector<TensorView>& tensors);

// Reads and validates a whole file (header bounds, JSON, dtypes, offsets inside the data
// section, byte count = elements x dtype size). NotFound / DataLoss on failure.
absl::StatusOr<SafetensorsContents> ReadSafetensors(const std::string& path);

}  // namespace latentbus::bridge

#endif  // LATENTBUS_BRIDGE_SAFETENSORS_IO_H_
