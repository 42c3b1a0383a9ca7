#include "codec/packet_proto.h"

#include <gtest/gtest.h>

#include "codec/packet.h"

namespace latentbus::codec {
namespace {

Packet SamplePacket() {
  Tensor t;
  t.shape = {3, 64};
  for (int i = 0; i < 3 * 64; ++i) t.data.push_back(static_cast<float>(i % 17) - 8.0f);
  Encoding e{DType::kInt4, 32, RotationKind::kHadamard, 99};
  Packet p = *Encode(t, e);
  p.model_id = "smollm2-135m";
  p.model_fingerprint = "abc123";
  p.space = Space::kHidden;
  p.layer = 20;
  return p;
}

TEST(PacketProtoTest, RoundTripThroughTheWire) {
  const Packet p = SamplePacket();
  const std::string wire = ToProto(p).SerializeAsString();
  v1::LatentPacket parsed;
  ASSERT_TRUE(parsed.ParseFromString(wire));
  EXPECT_EQ(WireBytes(parsed), wire.size());
  absl::StatusOr<Packet> back = FromProto(parsed);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->model_id, "smollm2-135m");
  EXPECT_EQ(back->model_fingerprint, "abc123");
  EXPECT_EQ(back->space, Space::kHidden);
  EXPECT_EQ(back->layer, 20u);
  EXPECT_EQ(back->shape, p.shape);
  EXPECT_EQ(back->encoding, p.encoding);
  EXPECT_EQ(back->payload, p.payload);
  EXPECT_EQ(back->scales, p.scales);
  EXPECT_EQ(back->checksum, p.checksum);
  EXPECT_TRUE(ValidatePacket(*back).ok());
  // The block rotation's kind crosses the wire too.
  Packet blocks = *Encode(*Decode(p), Encoding{DType::kInt8, 64, RotationKind::kHadamard64, 5});
  v1::LatentPacket blocks_proto = ToProto(blocks);
  EXPECT_EQ(blocks_proto.encoding().rotation(), v1::ROTATION_HADAMARD_BLOCK64);
  absl::StatusOr<Packet> blocks_back = FromProto(blocks_proto);
  ASSERT_TRUE(blocks_back.ok()) << blocks_back.status();
  EXPECT_EQ(blocks_back->encoding, blocks.encoding);
  EXPECT_TRUE(ValidatePacket(*blocks_back).ok());
}

TEST(PacketProtoTest, UnknownEnumValuesFromNewerPeersAreRejected) {
  v1::LatentPacket proto = ToProto(SamplePacket());
  proto.mutable_encoding()->set_dtype(static_cast<v1::DType>(77));
  absl::StatusOr<Packet> p = FromProto(proto);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("dtype 77"), std::string::npos) << p.status();

  proto = ToProto(SamplePacket());
  proto.mutable_encoding()->set_dtype(v1::DTYPE_UNSPECIFIED);
  EXPECT_FALSE(FromProto(proto).ok());

  proto = ToProto(SamplePacket());
  proto.mutable_encoding()->set_rotation(static_cast<v1::Rotation>(5));
  EXPECT_FALSE(FromProto(proto).ok());

  proto = ToProto(SamplePacket());
  proto.set_space(static_cast<v1::Space>(9));
  EXPECT_FALSE(FromProto(proto).ok());
}

TEST(PacketProtoTest, TooManyDimsRejectedBeforeCopying) {
  v1::LatentPacket proto = ToProto(SamplePacket());
  for (int i = 0; i < 10; ++i) proto.add_shape(1);
  absl::StatusOr<Packet> p = FromProto(proto);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("dims"), std::string::npos);
}

TEST(PacketProtoTest, MissingEncodingIsInvalid) {
  v1::LatentPacket proto = ToProto(SamplePacket());
  proto.clear_encoding();
  EXPECT_FALSE(FromProto(proto).ok());
}

}  // namespace
}  // namespace latentbus::codec
