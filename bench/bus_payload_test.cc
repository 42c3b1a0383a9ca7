#include "bench/bus_payload.h"

#include <gtest/gtest.h>

#include "codec/packet_proto.h"

namespace latentbus::bench {
namespace {

v1::ModelSpec Sender(uint32_t hidden) {
  v1::ModelSpec spec;
  spec.set_model_id("smollm2-135m-instruct-q4_1");
  spec.set_fingerprint("fp");
  spec.set_hidden_size(hidden);
  spec.set_tap_layer(10);
  return spec;
}

TEST(BusPayloadTest, SixteenKibOfInt4At576Is45Rows) {
  const codec::Encoding int4 = *codec::ParseEncoding("int4/g32");
  EXPECT_EQ(RowsForBytes(16384, 576, int4), 45u);  // 45 * (288 + 72) = 16200
  EXPECT_EQ(RowsForBytes(1, 576, int4), 1u);       // never 0 rows
  const codec::Encoding fp16 = *codec::ParseEncoding("fp16");
  EXPECT_EQ(RowsForBytes(16384, 576, fp16), 14u);  // 14 * 1152 = 16128
}

TEST(BusPayloadTest, LatentIsAValidPacketInTheSendersSpace) {
  PayloadSpec spec;  // defaults: 16 KiB int4/g32 at 576
  absl::StatusOr<Payload> p = MakePayload(spec, Sender(576));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->rows, 45u);
  EXPECT_EQ(p->content_bytes, 16200u);
  ASSERT_TRUE(p->envelope.has_latent());
  const v1::LatentPacket& latent = p->envelope.latent();
  EXPECT_EQ(latent.model_id(), "smollm2-135m-instruct-q4_1");
  EXPECT_EQ(latent.layer(), 10u);
  EXPECT_EQ(latent.space(), v1::SPACE_HIDDEN);
  absl::StatusOr<codec::Packet> packet = codec::FromProto(latent);
  ASSERT_TRUE(packet.ok());
  EXPECT_TRUE(codec::ValidatePacket(*packet).ok());
  EXPECT_EQ(p->description, "latent [45, 576] int4/g32");
  EXPECT_GT(p->envelope_bytes, p->content_bytes);
}

TEST(BusPayloadTest, ExplicitRowsWin) {
  PayloadSpec spec;
  spec.rows = 128;
  absl::StatusOr<Payload> p = MakePayload(spec, Sender(576));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->envelope.latent().shape(0), 128u);
}

TEST(BusPayloadTest, RefusesAWidthTheSenderDoesNotHave) {
  PayloadSpec spec;
  spec.width = 640;
  EXPECT_FALSE(MakePayload(spec, Sender(576)).ok());
}

TEST(BusPayloadTest, TextOfSameSizeMatchesTheEnvelopeBytes) {
  absl::StatusOr<Payload> p = MakePayload(PayloadSpec{}, Sender(576));
  ASSERT_TRUE(p.ok());
  Payload text = TextOfSameSize(*p);
  EXPECT_FALSE(text.envelope.has_latent());
  EXPECT_LE(text.envelope_bytes, p->envelope_bytes);
  EXPECT_GE(text.envelope_bytes + 2, p->envelope_bytes);
}

TEST(BusPayloadTest, TextPayload) {
  PayloadSpec spec;
  spec.latent = false;
  spec.text_bytes = 256;
  absl::StatusOr<Payload> p = MakePayload(spec, Sender(576));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->envelope.text().size(), 256u);
  spec.text_bytes = 0;
  EXPECT_FALSE(MakePayload(spec, Sender(576)).ok());
}

}  // namespace
}  // namespace latentbus::bench
