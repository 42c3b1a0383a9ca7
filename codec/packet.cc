#include "codec/packet.h"

#include <algorithm>
#include <cmath>
#include <cstring>

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

// Element count of a shape, or an error if it is malformed or above `max_elements`.
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

// Position and value of the first element that is not finite or is beyond `limit_bits`,
// for error messages (only called on the failure path).
std::string DescribeBadValue(absl::Span<const float> data, uint32_t limit_bits, const char* what) {
  for (size_t i = 0; i < data.size(); ++i) {
    if (AbsBits(data[i]) >= limit_bits) {
      return absl::StrCat("element ", i, " is ", data[i], ", ", what);
    }
  }
  return absl::StrCat("a value became non-finite after rotation (", what, ")");
}

template <typename T>
T* BytesAs(std::string& s) {
  return reinterpret_cast<T*>(s.data());
}
template <typename T>
const T* BytesAs(const std::string& s) {
  return reinterpret_cast<const T*>(s.data());
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

  // The rotation works on a private copy; thread_local keeps steady-state encoding
  // free of allocations.
  const float* src = data.data();
  thread_local std::vector<float> rotated;
  if (encoding.rotation == RotationKind::kHadamard) {
    absl::StatusOr<Rotation> rot = Rotation::Create(shape.back(), encoding.rotation_seed);
    if (!rot.ok()) return rot.status();
    rotated.assign(data.begin(), data.end());
    rot->Forward(rotated.data(), *n / shape.back());
    src = rotated.data();
  }

  out->format_version = kFormatVersion;
  out->shape = shape;
  out->encoding = encoding;
  out->scales.resize(NumGroups(encoding, *n) * sizeof(float));
  out->payload.resize(PayloadBytes(encoding, *n));
  bool ok = false;
  uint32_t limit = kNonFiniteAbsBits;
  const char* what = "not finite";
  switch (encoding.dtype) {
    case DType::kFp32:
      ok = k.copy_finite(src, *n, BytesAs<float>(out->payload));
      break;
    case DType::kFp16:
      ok = k.float_to_fp16(src, *n, BytesAs<uint16_t>(out->payload));
      limit = kFp16OverflowAbsBits;
      what = "not finite or beyond fp16 range (|x| >= 65520); use bf16 or int8";
      break;
    case DType::kBf16:
      ok = k.float_to_bf16(src, *n, BytesAs<uint16_t>(out->payload));
      limit = kBf16OverflowAbsBits;
      what = "not finite or beyond bf16 range";
      break;
    case DType::kInt8:
      limit = kQuantLimitAbsBits;
      what = "not finite or |x| >= 2^120";
      ok = k.quantize_int8(src, *n, encoding.group_size, BytesAs<float>(out->scales),
                           BytesAs<int8_t>(out->payload));
      break;
    case DType::kInt4:
      limit = kQuantLimitAbsBits;
      what = "not finite or |x| >= 2^120";
      ok = k.quantize_int4(src, *n, encoding.group_size, BytesAs<float>(out->scales),
                           BytesAs<uint8_t>(out->payload));
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
  if (p.encoding.rotation == RotationKind::kHadamard) {
    if (absl::Status s = Rotation::CheckWidth(p.shape.back()); !s.ok()) {
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

// Decodes a packet that passed ValidatePacket into exactly product(shape) floats.
absl::Status DecodeValidated(const Packet& p, absl::Span<float> out, const Kernels& k) {
  const size_t n = out.size();
  bool ok = true;
  switch (p.encoding.dtype) {
    case DType::kFp32:
      ok = k.copy_finite(BytesAs<float>(p.payload), n, out.data());
      break;
    case DType::kFp16:
      ok = k.fp16_to_float(BytesAs<uint16_t>(p.payload), n, out.data());
      break;
    case DType::kBf16:
      ok = k.bf16_to_float(BytesAs<uint16_t>(p.payload), n, out.data());
      break;
    case DType::kInt8:
      k.dequantize_int8(BytesAs<int8_t>(p.payload), BytesAs<float>(p.scales), n,
                        p.encoding.group_size, out.data());
      break;
    case DType::kInt4:
      k.dequantize_int4(BytesAs<uint8_t>(p.payload), BytesAs<float>(p.scales), n,
                        p.encoding.group_size, out.data());
      break;
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat("latent packet: payload holds a non-finite ",
                                                   DTypeName(p.encoding.dtype), " value"));
  }
  if (p.encoding.rotation == RotationKind::kHadamard) {
    absl::StatusOr<Rotation> rot = Rotation::Create(p.shape.back(), p.encoding.rotation_seed);
    if (!rot.ok()) return rot.status();
    rot->Inverse(out.data(), n / p.shape.back());
    // Finite payloads can still overflow inside the inverse transform.
    if (!k.copy_finite(out.data(), n, out.data())) {
      return absl::InvalidArgumentError(
          "latent packet: values overflow to infinity in the inverse rotation");
    }
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
