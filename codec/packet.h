// Latent packets: a float tensor of soft tokens <-> a compact, verifiable packet.
//
// Byte layout, format version 1 (all multi-byte values little-endian):
//
//   shape      1..4 dims, each >= 1; n = product(shape); the last dim is the width d.
//   payload    fp32: n * 4 bytes, IEEE binary32.
//              fp16: n * 2 bytes, IEEE binary16, round-to-nearest-even from binary32.
//              bf16: n * 2 bytes, the upper 16 bits of binary32 after round-to-nearest-even.
//              int8: n bytes, two's complement q in [-127, 127].
//              int4: ceil(n / 2) bytes; byte i holds element 2i in bits 0-3 and element
//                    2i + 1 in bits 4-7 (0 when n is odd), each stored as q + 8, q in [-7, 7].
//   scales     int8/int4 only: G = ceil(n / g) binary32 values (g = group size 32/64/128),
//              scale k covering flattened elements [k*g, min((k+1)*g, n)) (groups run over
//              the flattened tensor, so with d % g != 0 a group may span two rows). In
//              [0, 2^120] (so q * scale is always finite; the encoder refuses |x| >= 2^120).
//              Empty for the float types. Element value = q * scale.
//   rotation   with ROTATION_HADAMARD (or ROTATION_HADAMARD_BLOCK64) every row of d values
//              was rotated before encoding (codec/rotation.h); decoding applies the
//              inverse after dequantizing.
//   checksum   XXH3-64, seed 0, over the canonical header followed by the scales bytes and
//              the payload bytes. Canonical header: u32 format_version, u32 dtype,
//              u32 group_size, u32 rotation, u64 rotation_seed, u32 rank, u32 dims[rank],
//              u64 len(scales), u64 len(payload). Model id, fingerprint, space and layer are
//              routing metadata outside the checksum (the broker re-checks them against
//              registrations).
//
// Quantization rule: see codec/kernels.h. The encoder refuses non-finite input and,
// for fp16/bf16, values beyond the format's range (never silently writes infinity).
// The decoder validates the sizes, enums, scales and checksum above before touching the
// payload and refuses non-finite decoded values; malformed input yields InvalidArgument
// (DataLoss for a checksum mismatch) and never reads out of bounds. Values no encoder
// writes but that decode to finite numbers are tolerated, as the Python SDK tolerates
// them: int8 -128, int4 nibble 0 (-8), a non-zero padding nibble (ignored), a -0 scale,
// and a rotation seed on an unrotated packet (checksummed, otherwise unused).
//
// Thread safety: free functions; distinct packets may be encoded/decoded concurrently.
#ifndef LATENTBUS_CODEC_PACKET_H_
#define LATENTBUS_CODEC_PACKET_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "codec/encoding.h"
#include "codec/kernels.h"
#include "codec/tensor.h"

namespace latentbus::codec {

inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kMaxRank = 4;

// Numeric values match latentbus.v1.Space.
enum class Space : uint32_t {
  kUnspecified = 0,
  kHidden = 1,
  kInputEmbedding = 2,
};

// The codec's in-memory packet; mirrors latentbus.v1.LatentPacket field by field
// (codec/packet_proto.h converts). Byte fields are std::string to move into protobuf.
struct Packet {
  uint32_t format_version = kFormatVersion;
  std::string model_id;
  std::string model_fingerprint;
  Space space = Space::kUnspecified;
  uint32_t layer = 0;
  std::vector<uint32_t> shape;
  Encoding encoding;
  std::string scales;
  std::string payload;
  uint64_t checksum = 0;
};

struct DecodeLimits {
  // Largest tensor a decoder will materialise (elements); 64 Mi floats = 256 MiB.
  size_t max_elements = size_t{1} << 26;
};

// The number of elements of `shape`, or InvalidArgument when it has no dims, more than
// kMaxRank, a zero dim, or more than `max_elements` elements.
absl::StatusOr<size_t> CheckedElements(const std::vector<uint32_t>& shape, size_t max_elements);

// Encodes `data` (row-major, `shape`) into `out`, reusing out's buffers. Leaves out's
// model_id, model_fingerprint, space and layer untouched. `kernels` defaults to
// DefaultKernels(). Errors: InvalidArgument for a bad shape/encoding, a size mismatch,
// a non-finite value or a value beyond the fp16/bf16 range (out is then unspecified).
absl::Status EncodeInto(absl::Span<const float> data, const std::vector<uint32_t>& shape,
                        const Encoding& encoding, Packet* out, const Kernels* kernels = nullptr);

absl::StatusOr<Packet> Encode(const Tensor& tensor, const Encoding& encoding);

// Checks everything about `packet` that can be checked without decoding: version,
// encoding, shape and limits, payload and scales lengths, scales in [0, 2^120],
// checksum. Decode* call it first.
absl::Status ValidatePacket(const Packet& packet, const DecodeLimits& limits = {});

// Decodes into `out`, which must hold exactly product(shape) floats.
absl::Status DecodeInto(const Packet& packet, absl::Span<float> out,
                        const DecodeLimits& limits = {}, const Kernels* kernels = nullptr);

absl::StatusOr<Tensor> Decode(const Packet& packet, const DecodeLimits& limits = {});

// The checksum the packet should carry (see layout above). Does not validate.
uint64_t ComputeChecksum(const Packet& packet);

}  // namespace latentbus::codec

#endif  // LATENTBUS_CODEC_PACKET_H_
