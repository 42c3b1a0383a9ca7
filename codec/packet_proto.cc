#include "codec/packet_proto.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace latentbus::codec {

v1::Encoding EncodingToProto(const Encoding& encoding) {
  v1::Encoding proto;
  proto.set_dtype(static_cast<v1::DType>(encoding.dtype));
  proto.set_group_size(encoding.group_size);
  proto.set_rotation(static_cast<v1::Rotation>(encoding.rotation));
  proto.set_rotation_seed(encoding.rotation_seed);
  return proto;
}

v1::LatentPacket ToProto(Packet packet) {
  v1::LatentPacket proto;
  proto.set_format_version(packet.format_version);
  proto.set_model_id(std::move(packet.model_id));
  proto.set_model_fingerprint(std::move(packet.model_fingerprint));
  proto.set_space(static_cast<v1::Space>(packet.space));
  proto.set_layer(packet.layer);
  proto.mutable_shape()->Add(packet.shape.begin(), packet.shape.end());
  *proto.mutable_encoding() = EncodingToProto(packet.encoding);
  proto.set_scales(std::move(packet.scales));
  proto.set_payload(std::move(packet.payload));
  proto.set_checksum(packet.checksum);
  return proto;
}

absl::StatusOr<Encoding> EncodingFromProto(const v1::Encoding& proto) {
  Encoding encoding;
  switch (proto.dtype()) {
    case v1::DTYPE_FP32:
    case v1::DTYPE_FP16:
    case v1::DTYPE_BF16:
    case v1::DTYPE_INT8:
    case v1::DTYPE_INT4:
      encoding.dtype = static_cast<DType>(proto.dtype());
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("unknown or unspecified dtype ", static_cast<int>(proto.dtype())));
  }
  switch (proto.rotation()) {
    case v1::ROTATION_NONE:
    case v1::ROTATION_HADAMARD:
    case v1::ROTATION_HADAMARD_BLOCK64:
      encoding.rotation = static_cast<RotationKind>(proto.rotation());
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("unknown rotation ", static_cast<int>(proto.rotation())));
  }
  encoding.group_size = proto.group_size();
  encoding.rotation_seed = proto.rotation_seed();
  return encoding;
}

absl::StatusOr<Packet> FromProto(v1::LatentPacket proto) {
  Packet packet;
  absl::StatusOr<Encoding> encoding = EncodingFromProto(proto.encoding());
  if (!encoding.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("latent packet: ", encoding.status().message()));
  }
  switch (proto.space()) {
    case v1::SPACE_UNSPECIFIED:
    case v1::SPACE_HIDDEN:
    case v1::SPACE_INPUT_EMBEDDING:
      packet.space = static_cast<Space>(proto.space());
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("latent packet: unknown space ", static_cast<int>(proto.space())));
  }
  if (static_cast<size_t>(proto.shape_size()) > kMaxRank) {
    return absl::InvalidArgumentError(absl::StrCat("latent packet: shape has ", proto.shape_size(),
                                                   " dims, at most ", kMaxRank, " allowed"));
  }
  packet.format_version = proto.format_version();
  packet.encoding = *encoding;
  packet.model_id = std::move(*proto.mutable_model_id());
  packet.model_fingerprint = std::move(*proto.mutable_model_fingerprint());
  packet.layer = proto.layer();
  packet.shape.assign(proto.shape().begin(), proto.shape().end());
  packet.scales = std::move(*proto.mutable_scales());
  packet.payload = std::move(*proto.mutable_payload());
  packet.checksum = proto.checksum();
  return packet;
}

size_t WireBytes(const v1::LatentPacket& proto) { return proto.ByteSizeLong(); }

}  // namespace latentbus::codec
