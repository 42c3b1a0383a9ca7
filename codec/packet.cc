#include "codec/packet.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <optional>

#include "absl/strings/str_cat.h"
#include "codec/checksum.h"
#include "codec/half.h"
#include "codec/rotation.h"

namespace latentbus::codec {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the packet layout is little-endian; big-endian hosts need byte swaps");

const float kMaxScale = BitsToFloat(kQuantLimitAbsBits);

const Kernels& Pick(const Kernels* kernels) {
  return kernels != nullptr ? *kernels : DefaultKernels();
}

}  // namespace

absl::StatusOr<size_t> CheckedElements(const std::vector<uint32_t>& shape, size_t max_elements) {
  if (shape.empty() || shape.size() > kMaxRank) {
    return absl::InvalidArgumentError(
        absl::StrCat("shape must have 1 to ", kMaxRank, " dims, got ", shape.size()));
  }
  size_t n = 1;
  for (uint32_t d : shape) {
    if (d == 0) return absl::InvalidArgumentError(absl::StrCat("zero dim in ", ShapeString(shape)));
    if (n > max_elements / d) {
      return absl::InvalidArgumentError(absl::StrCat("shape ", ShapeString(shape), " exceeds the ",
                                                     max_elements, "-element limit"));
    }
    n *= d;
  }
  return n;
}

namespace {

// Position and value of the first element that is not finite or is beyond `limit_bits`,
// for error messages (only called on the failure path).
std::string DescribeBadValue(absl::Span<const float> data, uint32_t limit_bits, const char* what) {
  for (size_t i = 0; i < data.size(); ++i) {
    if (AbsBits(data[i]) >= limit_bits) {
      return absl::StrCat("element ", i, " is ", data[i], ", ", what);
    }
  }
  return absl::StrCat("a value went out of range in the rotation (", what, ")");
}

template <typename T>
T* BytesAs(std::string& s) {
  return reinterpret_cast<T*>(s.data());
}
template <typename T>
const T* BytesAs(const std::string& s) {
  return reinterpret_cast<const T*>(s.data());
}

// Rotated tensors are encoded (and decoded) a slice of rows at a time, the rotation and
// the element kernel back to back, so the slice is still in cache for the second step
// and the rotated copy never grows beyond one slice. About 32 KiB of floats per slice, but
// whole groups: a width sharing few factors of two with the group size needs up to g rows
// (g128 and an odd width of 65535: 32 MiB), which the encoder does not keep afterwards.
constexpr size_t kSliceFloats = 8192;

// Rows per slice: about kSliceFloats floats and a whole number of groups, so that every
// slice but the last starts and ends on a group boundary (group 0: no groups).
size_t SliceRows(size_t width, uint32_t group) {
  const size_t unit = group > 0 ? group / std::gcd(width, size_t{group}) : 1;
  const size_t rows = std::max<size_t>(1, kSliceFloats / width);
  return (rows + unit - 1) / unit * unit;
}

// The rotation of this kind, width and seed. Building one costs a SplitMix64 pass and
// odd^2 cosines, noticeable next to a small tensor, so each thread keeps the last one built.
absl::StatusOr<const Rotation*> RotationFor(const Encoding& e, size_t width) {
  thread_local std::optional<Rotation> last;
  if (!last.has_value() || last->width() != width || last->seed() != e.rotation_seed ||
      last->kind() != e.rotation) {
    absl::StatusOr<Rotation> rot = Rotation::Create(width, e.rotation_seed, e.rotation);
    if (!rot.ok()) return rot.status();
    last.emplace(*std::move(rot));
  }
  return &*last;
}

// Encodes the n floats `x`, elements [offset, offset + n) of the tensor, into `out`
// (payload and scales already sized); `offset` is a multiple of the group size.
bool EncodeElements(const Kernels& k, const Encoding& e, const float* x, size_t n, size_t offset,
                    Packet* out) {
  switch (e.dtype) {
    case DType::kFp32:
      return k.copy_finite(x, n, BytesAs<float>(out->payload) + offset);
    case DType::kFp16:
      return k.float_to_fp16(x, n, BytesAs<uint16_t>(out->payload) + offset);
    case DType::kBf16:
      return k.float_to_bf16(x, n, BytesAs<uint16_t>(out->payload) + offset);
    case DType::kInt8:
      return k.quantize_int8(x, n, e.group_size,
                             BytesAs<float>(out->scales) + offset / e.group_size,
                             BytesAs<int8_t>(out->payload) + offset);
    case DType::kInt4:
      return k.quantize_int4(x, n, e.group_size,
                             BytesAs<float>(out->scales) + offset / e.group_size,
                             BytesAs<uint8_t>(out->payload) + offset / 2);
  }
  return false;
}

// Decodes elements [offset, offset + n) of the packet's tensor into `out`; false when the
// payload holds a non-finite value there. `offset` is a multiple of the group size.
bool DecodeElements(const Kernels& k, const Packet& p, size_t offset, size_t n, float* out) {
  const uint32_t group = p.encoding.group_size;
  switch (p.encoding.dtype) {
    case DType::kFp32:
      return k.copy_finite(BytesAs<float>(p.payload) + offset, n, out);
    case DType::kFp16:
      return k.fp16_to_float(BytesAs<uint16_t>(p.payload) + offset, n, out);
    case DType::kBf16:
      return k.bf16_to_float(BytesAs<uint16_t>(p.payload) + offset, n, out);
    case DType::kInt8:
      k.dequantize_int8(BytesAs<int8_t>(p.payload) + offset,
                        BytesAs<float>(p.scales) + offset / group, n, group, out);
      return true;
    case DType::kInt4:
      k.dequantize_int4(BytesAs<uint8_t>(p.payload) + offset / 2,
                        BytesAs<float>(p.scales) + offset / group, n, group, out);
      return true;
  }
  return false;
}

}  // namespace

uint64_t ComputeChecksum(const Packet& p) {
  // Canonical header: fixed-width little-endian fields (see packet.h).
  char header[4 * 4 + 8 + 4 + 4 * kMaxRank + 8 + 8];
  size_t len = 0;
  auto put = [&](const auto& v) {
    std::memcpy(header + len, &v, sizeof(v));
    len += sizeof(v);
  };
  put(p.format_version);
  put(static_cast<uint32_t>(p.encoding.dtype));
  put(p.encoding.group_size);
  put(static_cast<uint32_t>(p.encoding.rotation));
  put(p.encoding.rotation_seed);
  put(static_cast<uint32_t>(p.shape.size()));
  // An over-long shape is invalid anyway; only kMaxRank dims fit the header.
  for (size_t i = 0; i < std::min(p.shape.size(), kMaxRank); ++i) put(p.shape[i]);
  put(static_cast<uint64_t>(p.scales.size()));
  put(static_cast<uint64_t>(p.payload.size()));
  return Xxh3({absl::string_view(header, len), p.scales, p.payload});
}

absl::Status EncodeInto(absl::Span<const float> data, const std::vector<uint32_t>& shape,
                        const Encoding& encoding, Packet* out, const Kernels* kernels) {
  const Kernels& k = Pick(kernels);
  if (absl::Status s = ValidateEncoding(encoding); !s.ok()) return s;
  absl::StatusOr<size_t> n = CheckedElements(shape, DecodeLimits{}.max_elements);
  if (!n.ok()) return n.status();
  if (*n != data.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("shape ", ShapeString(shape), " needs ", *n, " elements, got ", data.size()));
  }

  const Rotation* rotation = nullptr;
  if (IsRotated(encoding.rotation)) {
    absl::StatusOr<const Rotation*> rot = RotationFor(encoding, shape.back());
    if (!rot.ok()) return rot.status();
    rotation = *rot;
  }

  out->format_version = kFormatVersion;
  out->shape = shape;
  out->encoding = encoding;
  out->scales.resize(NumGroups(encoding, *n) * sizeof(float));
  out->payload.resize(PayloadBytes(encoding, *n));
  bool ok = true;
  if (rotation == nullptr) {
    ok = EncodeElements(k, encoding, data.data(), *n, 0, out);
  } else {
    // thread_local keeps steady-state encoding free of allocations.
    thread_local std::vector<float> rotated;
    const size_t width = shape.back();
    const size_t rows = *n / width;
    const size_t slice = SliceRows(width, encoding.group_size);
    rotated.resize(std::min(rows, slice) * width);
    for (size_t r = 0; ok && r < rows; r += slice) {
      const size_t count = std::min(slice, rows - r);
      rotation->Forward(data.data() + r * width, rotated.data(), count, k);
      ok = EncodeElements(k, encoding, rotated.data(), count * width, r * width, out);
    }
    if (rotated.capacity() > 16 * kSliceFloats) std::vector<float>().swap(rotated);
  }
  uint32_t limit = kNonFiniteAbsBits;
  const char* what = "not finite";
  switch (encoding.dtype) {
    case DType::kFp32:
      break;
    case DType::kFp16:
      limit = kFp16OverflowAbsBits;
      what = "not finite or beyond fp16 range (|x| >= 65520); use bf16 or int8";
      break;
    case DType::kBf16:
      limit = kBf16OverflowAbsBits;
      what = "not finite or beyond bf16 range";
      break;
    case DType::kInt8:
    case DType::kInt4:
      limit = kQuantLimitAbsBits;
      what = "not finite or |x| >= 2^120";
      break;
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat("cannot encode as ", EncodingName(encoding),
                                                   ": ", DescribeBadValue(data, limit, what)));
  }
  out->checksum = ComputeChecksum(*out);
  return absl::OkStatus();
}

absl::StatusOr<Packet> Encode(const Tensor& tensor, const Encoding& encoding) {
  Packet packet;
  if (absl::Status s = EncodeInto(tensor.data, tensor.shape, encoding, &packet); !s.ok()) {
    return s;
  }
  return packet;
}

absl::Status ValidatePacket(const Packet& p, const DecodeLimits& limits) {
  if (p.format_version != kFormatVersion) {
    return absl::InvalidArgumentError(absl::StrCat("latent packet: format version ",
                                                   p.format_version,
                                                   " not supported (this "
                                                   "build reads version ",
                                                   kFormatVersion, ")"));
  }
  if (absl::Status s = ValidateEncoding(p.encoding); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("latent packet: ", s.message()));
  }
  absl::StatusOr<size_t> n = CheckedElements(p.shape, limits.max_elements);
  if (!n.ok())
    return absl::InvalidArgumentError(absl::StrCat("latent packet: ", n.status().message()));
  const size_t want_payload = PayloadBytes(p.encoding, *n);
  if (p.payload.size() != want_payload) {
    return absl::InvalidArgumentError(absl::StrCat(
        "latent packet: payload is ", p.payload.size(), " bytes, shape ", ShapeString(p.shape),
        " as ", EncodingName(p.encoding), " needs ", want_payload));
  }
  const size_t want_scales = NumGroups(p.encoding, *n) * sizeof(float);
  if (p.scales.size() != want_scales) {
    return absl::InvalidArgumentError(absl::StrCat("latent packet: scales are ", p.scales.size(),
                                                   " bytes, expected ", want_scales));
  }
  if (IsRotated(p.encoding.rotation)) {
    if (absl::Status s = Rotation::CheckWidth(p.shape.back(), p.encoding.rotation); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("latent packet: ", s.message()));
    }
  }
  const size_t num_scales = want_scales / sizeof(float);
  for (size_t i = 0; i < num_scales; ++i) {
    float s;
    std::memcpy(&s, p.scales.data() + i * sizeof(float), sizeof(s));
    if (!(s >= 0.0f && s <= kMaxScale)) {  // also false for NaN
      return absl::InvalidArgumentError(
          absl::StrCat("latent packet: scale ", i, " is ", s, " (must be in [0, 2^120])"));
    }
  }
  const uint64_t want_checksum = ComputeChecksum(p);
  if (p.checksum != want_checksum) {
    return absl::DataLossError(absl::StrCat("latent packet: checksum mismatch (carried ",
                                            absl::Hex(p.checksum, absl::kZeroPad16), ", computed ",
                                            absl::Hex(want_checksum, absl::kZeroPad16), ")"));
  }
  return absl::OkStatus();
}

namespace {

// False when no value of the packet's decoded tensor, nor any partial sum of its inverse
// rotation, can reach infinity, so the decoder need not look for one: every intermediate
// of the inverse transform is at most width * max|x| (the Hadamard stages sum at most
// pow2 terms, the DCT odd terms with coefficients <= 1), and |x| <= 128 (int8) or 8 (int4)
// times the largest scale (scales were checked to be finite; a packet from elsewhere may
// hold -128 or nibble 0), |x| <= 65504 for fp16. bf16 and fp32
// payloads can hold anything up to FLT_MAX, so they are always checked.
bool InverseMayOverflow(const Packet& p, size_t width) {
  double max_in = 0.0;
  switch (p.encoding.dtype) {
    case DType::kFp16:
      max_in = 65504.0;
      break;
    case DType::kInt8:
    case DType::kInt4: {
      // Scales were checked to be in [0, 2^120], -0 included: without the sign bit their
      // bit patterns order like their magnitudes (with it, -0 would beat every scale).
      uint32_t max_bits = 0;
      const uint32_t* bits = BytesAs<uint32_t>(p.scales);
      const size_t count = p.scales.size() / sizeof(uint32_t);
      for (size_t i = 0; i < count; ++i) max_bits = std::max(max_bits, bits[i] & 0x7fffffffu);
      max_in = static_cast<double>(BitsToFloat(max_bits)) *
               (p.encoding.dtype == DType::kInt8 ? 128.0 : 8.0);
      break;
    }
    case DType::kFp32:
    case DType::kBf16:
      return true;
  }
  // A factor of 4 below FLT_MAX covers the roundings on the way.
  return static_cast<double>(width) * max_in > 0.25 * std::numeric_limits<float>::max();
}

// Decodes a packet that passed ValidatePacket into exactly product(shape) floats.
absl::Status DecodeValidated(const Packet& p, absl::Span<float> out, const Kernels& k) {
  const size_t n = out.size();
  const auto non_finite = [&p] {
    return absl::InvalidArgumentError(absl::StrCat("latent packet: payload holds a non-finite ",
                                                   DTypeName(p.encoding.dtype), " value"));
  };
  if (!IsRotated(p.encoding.rotation)) {
    return DecodeElements(k, p, 0, n, out.data()) ? absl::OkStatus() : non_finite();
  }
  absl::StatusOr<const Rotation*> rot = RotationFor(p.encoding, p.shape.back());
  if (!rot.ok()) return rot.status();
  const size_t width = p.shape.back();
  const size_t rows = n / width;
  const size_t slice = SliceRows(width, p.encoding.group_size);
  // A non-finite payload anywhere is reported before an overflow in the rotation.
  const bool check = InverseMayOverflow(p, width);
  bool overflow = false;
  for (size_t r = 0; r < rows; r += slice) {
    const size_t count = std::min(slice, rows - r);
    float* x = out.data() + r * width;
    if (!DecodeElements(k, p, r * width, count * width, x)) return non_finite();
    (*rot)->Inverse(x, x, count, k);
    // Finite payloads can still overflow inside the inverse transform.
    if (check && !overflow && !k.all_finite(x, count * width)) overflow = true;
  }
  if (overflow) {
    return absl::InvalidArgumentError(
        "latent packet: values overflow to infinity in the inverse rotation");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status DecodeInto(const Packet& p, absl::Span<float> out, const DecodeLimits& limits,
                        const Kernels* kernels) {
  if (absl::Status s = ValidatePacket(p, limits); !s.ok()) return s;
  const size_t n = NumElements(p.shape);
  if (out.size() != n) {
    return absl::InvalidArgumentError(
        absl::StrCat("decode buffer holds ", out.size(), " floats, packet has ", n));
  }
  return DecodeValidated(p, out, Pick(kernels));
}

absl::StatusOr<Tensor> Decode(const Packet& packet, const DecodeLimits& limits) {
  if (absl::Status s = ValidatePacket(packet, limits); !s.ok()) return s;
  Tensor t;
  t.shape = packet.shape;
  t.data.resize(NumElements(packet.shape));
  if (absl::Status s = DecodeValidated(packet, absl::MakeSpan(t.data), DefaultKernels()); !s.ok()) {
    return s;
  }
  return t;
}

}  // namespace latentbus::codec
