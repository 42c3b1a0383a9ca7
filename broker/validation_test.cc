#include "broker/validation.h"

#include <gtest/gtest.h>

#include "broker/errors.h"
#include "codec/packet_proto.h"

namespace latentbus::broker {
namespace {

v1::ModelSpec Spec() {
  v1::ModelSpec s;
  s.set_model_id("m");
  s.set_fingerprint("f");
  s.set_hidden_size(64);
  s.set_embedding_size(32);
  s.set_max_soft_tokens(8);
  s.set_tap_layer(2);
  s.set_num_layers(4);
  *s.mutable_preferred_encoding() = codec::EncodingToProto(codec::DefaultEncoding());
  return s;
}

v1::LatentPacket Latent(uint32_t rows, uint32_t width) {
  codec::Tensor t;
  t.shape = {rows, width};
  t.data.assign(size_t{rows} * width, 0.25f);
  codec::Packet p = *codec::Encode(t, codec::DefaultEncoding());
  p.model_id = "m";
  p.model_fingerprint = "f";
  p.space = codec::Space::kHidden;
  p.layer = 2;
  return codec::ToProto(std::move(p));
}

TEST(ValidationTest, Names) {
  EXPECT_TRUE(ValidateName("x", "agent-1.b_c").ok());
  EXPECT_FALSE(ValidateName("x", "").ok());
  EXPECT_FALSE(ValidateName("x", "has space").ok());
  EXPECT_FALSE(ValidateName("x", std::string(257, 'a')).ok());
  EXPECT_FALSE(ValidateName("x", "tab\t").ok());
}

TEST(ValidationTest, ModelSpec) {
  EXPECT_TRUE(ValidateModelSpec(Spec()).ok());
  v1::ModelSpec s = Spec();
  s.set_tap_layer(4);
  EXPECT_FALSE(ValidateModelSpec(s).ok());
  s = Spec();
  s.set_max_soft_tokens(0);
  EXPECT_FALSE(ValidateModelSpec(s).ok());
  s = Spec();
  s.mutable_preferred_encoding()->set_group_size(33);
  EXPECT_FALSE(ValidateModelSpec(s).ok());
  s = Spec();
  s.clear_fingerprint();
  EXPECT_FALSE(ValidateModelSpec(s).ok());
  // The registry keeps the spec for an hour after the agent leaves: bounded in bytes.
  s = Spec();
  s.set_family(std::string(kMaxModelSpecBytes, 'f'));
  const absl::Status big = ValidateModelSpec(s);
  EXPECT_FALSE(big.ok());
  EXPECT_NE(big.message().find("at most 4096"), std::string::npos) << big;
  s.set_family("gemma3");
  EXPECT_TRUE(ValidateModelSpec(s).ok());
}

TEST(ValidationTest, Envelope) {
  v1::Envelope e;
  e.set_message_id("m1");
  e.mutable_recipient()->set_agent_id("b");
  e.set_text("hi");
  EXPECT_TRUE(ValidateEnvelope(e, 1024).ok());
  EXPECT_EQ(ReasonOf(ValidateEnvelope(e, 4)), v1::MESSAGE_TOO_LARGE);
  v1::Envelope reply = e;
  reply.clear_recipient();
  EXPECT_EQ(ReasonOf(ValidateEnvelope(reply, 1024)), v1::INVALID_ARGUMENT);
  reply.set_correlation_id("q1");
  EXPECT_TRUE(ValidateEnvelope(reply, 1024).ok());
  v1::Envelope empty = e;
  empty.clear_text();
  EXPECT_EQ(ReasonOf(ValidateEnvelope(empty, 1024)), v1::INVALID_ARGUMENT);
}

TEST(ValidationTest, Latent) {
  EXPECT_TRUE(ValidateLatent(Latent(8, 64), Spec()).ok());
  // What validation hands on: the values decoded (once), the payload not kept.
  const v1::LatentPacket sent = Latent(3, 64);
  absl::StatusOr<AcceptedLatent> accepted = ValidateLatent(sent, Spec());
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  const absl::StatusOr<codec::Tensor> direct = codec::Decode(*codec::FromProto(sent));
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(accepted->values.shape, direct->shape);
  EXPECT_EQ(accepted->values.data, direct->data);
  EXPECT_EQ(accepted->header.shape, (std::vector<uint32_t>{3, 64}));
  EXPECT_TRUE(accepted->header.payload.empty());
  auto reason = [](const v1::LatentPacket& p) {
    return ReasonOf(ValidateLatent(p, Spec()).status());
  };
  EXPECT_EQ(reason(Latent(9, 64)), v1::INVALID_PACKET);  // > max_soft_tokens
  EXPECT_EQ(reason(Latent(2, 32)), v1::INVALID_PACKET);  // wrong width
  v1::LatentPacket p = Latent(2, 64);
  p.set_layer(1);
  EXPECT_EQ(reason(p), v1::INVALID_PACKET);
  p = Latent(2, 64);
  p.set_space(v1::SPACE_INPUT_EMBEDDING);
  EXPECT_EQ(reason(p), v1::INVALID_PACKET);
  p = Latent(2, 64);
  p.set_model_fingerprint("other");
  EXPECT_EQ(reason(p), v1::INVALID_PACKET);
  p = Latent(2, 64);
  (*p.mutable_payload())[0] ^= 1;
  EXPECT_EQ(reason(p), v1::INVALID_PACKET);  // checksum
  p = Latent(2, 64);
  p.set_format_version(2);
  // The version is under the checksum too; the message shows which check refused it.
  const absl::Status version = ValidateLatent(p, Spec()).status();
  EXPECT_EQ(ReasonOf(version), v1::INVALID_PACKET);
  EXPECT_NE(version.message().find("format version"), absl::string_view::npos) << version;
}

}  // namespace
}  // namespace latentbus::broker
