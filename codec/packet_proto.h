// Conversion between the codec's Packet and the wire message latentbus.v1.LatentPacket.
//
// FromProto checks only what the conversion itself needs (enum values it knows);
// call ValidatePacket / Decode afterwards for the full checks. Thread safety: pure.
#ifndef LATENTBUS_CODEC_PACKET_PROTO_H_
#define LATENTBUS_CODEC_PACKET_PROTO_H_

#include <cstddef>

#include "absl/status/statusor.h"
#include "codec/encoding.h"
#include "codec/packet.h"
#include "latentbus/v1/latent.pb.h"

namespace latentbus::codec {

// Moves the byte buffers out of `packet` when it is an rvalue.
v1::LatentPacket ToProto(Packet packet);
v1::Encoding EncodingToProto(const Encoding& encoding);

// InvalidArgument for an unknown dtype, rotation or space, or more than kMaxRank dims.
absl::StatusOr<Packet> FromProto(v1::LatentPacket proto);
absl::StatusOr<Encoding> EncodingFromProto(const v1::Encoding& proto);

// Exact serialized size of the packet as a LatentPacket message.
size_t WireBytes(const v1::LatentPacket& proto);

}  // namespace latentbus::codec

#endif  // LATENTBUS_CODEC_PACKET_PROTO_H_
