// Encodings of latent tensors: element type, quantization group size, rotation.
//
// Thread safety: all functions are pure and safe to call concurrently.
#ifndef LATENTBUS_CODEC_ENCODING_H_
#define LATENTBUS_CODEC_ENCODING_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace latentbus::codec {

// Numeric values match latentbus.v1.DType on the wire.
enum class DType : uint32_t {
  kFp32 = 1,
  kFp16 = 2,
  kBf16 = 3,
  kInt8 = 4,
  kInt4 = 5,
};

// Numeric values match latentbus.v1.Rotation on the wire.
enum class RotationKind : uint32_t {
  kNone = 0,
  // One transform across the whole row ("+rot"; codec/rotation.h).
  kHadamard = 1,
  // Independent transforms within blocks of 64 channels ("+rot64"; codec/rotation.h):
  // any width, half the stages of a 4096-wide kHadamard and no DCT.
  kHadamard64 = 2,
};

// True for the kinds that rotate (every kind but kNone).
inline bool IsRotated(RotationKind kind) { return kind != RotationKind::kNone; }

struct Encoding {
  DType dtype = DType::kInt4;
  // Elements per scale for kInt8/kInt4 (32, 64 or 128); 0 for float types.
  uint32_t group_size = 32;
  RotationKind rotation = RotationKind::kNone;
  uint64_t rotation_seed = 0;

  bool operator==(const Encoding& o) const {
    return dtype == o.dtype && group_size == o.group_size && rotation == o.rotation &&
           rotation_seed == o.rotation_seed;
  }
  bool operator!=(const Encoding& o) const { return !(*this == o); }
};

// Seed used when a rotation is requested without one.
inline constexpr uint64_t kDefaultRotationSeed = 0x6c6174656e746275ULL;  // "latentbu"

// The recommended default: int4, groups of 32, no rotation.
Encoding DefaultEncoding();

bool IsQuantized(DType dtype);

// OK when the dtype and rotation are known and the group size fits the dtype.
absl::Status ValidateEncoding(const Encoding& encoding);

// Number of scales for `num_elements` elements: ceil(n / group) for int types, else 0.
size_t NumGroups(const Encoding& encoding, size_t num_elements);

// Exact payload size in bytes for `num_elements` elements.
size_t PayloadBytes(const Encoding& encoding, size_t num_elements);

// "fp32", "fp16", "bf16", "int8", "int4".
const char* DTypeName(DType dtype);

// Human-readable and parseable: "int4/g32", "int8/g128+rot", "fp16", "bf16+rot:42",
// "int4/g32+rot64".
std::string EncodingName(const Encoding& encoding);

// Inverse of EncodingName. Accepts "int4" (group 32 by default), "int8/g64",
// "int4/g128+rot" (default seed), "int4+rot:1234" (explicit seed) and the same with
// "+rot64" for the block rotation.
absl::StatusOr<Encoding> ParseEncoding(absl::string_view text);

}  // namespace latentbus::codec

#endif  // LATENTBUS_CODEC_ENCODING_H_
