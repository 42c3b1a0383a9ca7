#include "broker/validation.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "broker/errors.h"
#include "codec/packet_proto.h"

namespace latentbus::broker {
namespace {

absl::Status Invalid(absl::string_view detail) { return BrokerError(v1::INVALID_ARGUMENT, detail); }

absl::Status BadPacket(absl::string_view detail) { return BrokerError(v1::INVALID_PACKET, detail); }

}  // namespace

std::string Quoted(absl::string_view text, size_t max_bytes) {
  const bool cut = text.size() > max_bytes;
  std::string out =
      absl::StrCat("'", absl::CHexEscape(text.substr(0, max_bytes)), cut ? "..." : "", "'");
  if (cut) absl::StrAppend(&out, " (", text.size(), " bytes)");
  return out;
}

absl::Status ValidateName(absl::string_view what, absl::string_view name) {
  if (name.empty()) return Invalid(absl::StrCat(what, " is empty"));
  if (name.size() > kMaxNameBytes) {
    return Invalid(absl::StrCat(what, " is longer than ", kMaxNameBytes, " bytes"));
  }
  for (char c : name) {
    if (c <= ' ' || c > '~') {
      return Invalid(absl::StrCat(what, " ", Quoted(name), " has a space or non-printable byte"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateModelSpec(const v1::ModelSpec& spec) {
  // Unknown fields count too: the registry keeps them with the rest.
  if (const size_t bytes = spec.ByteSizeLong(); bytes > kMaxModelSpecBytes) {
    return Invalid(absl::StrCat("model spec is ", bytes, " bytes; at most ", kMaxModelSpecBytes));
  }
  if (absl::Status s = ValidateName("model.model_id", spec.model_id()); !s.ok()) return s;
  if (absl::Status s = ValidateName("model.fingerprint", spec.fingerprint()); !s.ok()) return s;
  if (spec.hidden_size() == 0 || spec.hidden_size() > kMaxWidth) {
    return Invalid(
        absl::StrCat("model.hidden_size ", spec.hidden_size(), " not in [1, ", kMaxWidth, "]"));
  }
  if (spec.embedding_size() == 0 || spec.embedding_size() > kMaxWidth) {
    return Invalid(absl::StrCat("model.embedding_size ", spec.embedding_size(), " not in [1, ",
                                kMaxWidth, "]"));
  }
  if (spec.max_soft_tokens() == 0 || spec.max_soft_tokens() > kMaxSoftTokens) {
    return Invalid(absl::StrCat("model.max_soft_tokens ", spec.max_soft_tokens(), " not in [1, ",
                                kMaxSoftTokens, "]"));
  }
  if (spec.num_layers() != 0 && spec.tap_layer() >= spec.num_layers()) {
    return Invalid(
        absl::StrCat("model.tap_layer ", spec.tap_layer(), " >= num_layers ", spec.num_layers()));
  }
  absl::StatusOr<codec::Encoding> encoding = codec::EncodingFromProto(spec.preferred_encoding());
  if (!encoding.ok())
    return Invalid(absl::StrCat("model.preferred_encoding: ", encoding.status().message()));
  if (absl::Status s = codec::ValidateEncoding(*encoding); !s.ok()) {
    return Invalid(absl::StrCat("model.preferred_encoding: ", s.message()));
  }
  return absl::OkStatus();
}

absl::Status ValidateEnvelope(const v1::Envelope& envelope, uint64_t max_message_bytes) {
  size_t bytes = envelope.ByteSizeLong();
  if (bytes > max_message_bytes) {
    return BrokerError(
        v1::MESSAGE_TOO_LARGE,
        absl::StrCat("envelope is ", bytes, " bytes; the limit is ", max_message_bytes));
  }
  if (absl::Status s = ValidateName("message_id", envelope.message_id()); !s.ok()) return s;
  switch (envelope.recipient().target_case()) {
    case v1::Address::kAgentId:
      if (absl::Status s = ValidateName("recipient.agent_id", envelope.recipient().agent_id());
          !s.ok()) {
        return s;
      }
      break;
    case v1::Address::kTopic:
      if (absl::Status s = ValidateName("recipient.topic", envelope.recipient().topic()); !s.ok()) {
        return s;
      }
      break;
    default:
      if (envelope.correlation_id().empty()) {
        return Invalid("envelope has no recipient (and is not a reply)");
      }
  }
  if (!envelope.correlation_id().empty()) {
    if (absl::Status s = ValidateName("correlation_id", envelope.correlation_id()); !s.ok()) {
      return s;
    }
  }
  if (!envelope.has_latent() && envelope.text().empty()) {
    return Invalid("envelope carries neither text nor a latent");
  }
  return absl::OkStatus();
}

absl::StatusOr<AcceptedLatent> ValidateLatent(const v1::LatentPacket& latent,
                                              const v1::ModelSpec& sender) {
  absl::StatusOr<codec::Packet> packet = codec::FromProto(latent);
  if (!packet.ok()) return BadPacket(packet.status().message());
  if (packet->model_id != sender.model_id() || packet->model_fingerprint != sender.fingerprint()) {
    return BadPacket(absl::StrCat("packet names model ", Quoted(packet->model_id), "@",
                                  Quoted(packet->model_fingerprint), " but the sender registered ",
                                  sender.model_id(), "@", sender.fingerprint()));
  }
  if (packet->space != codec::Space::kHidden) {
    return BadPacket("packet space must be SPACE_HIDDEN (the sender's hidden states)");
  }
  if (packet->layer != sender.tap_layer()) {
    return BadPacket(absl::StrCat("packet layer ", packet->layer, " != registered tap_layer ",
                                  sender.tap_layer()));
  }
  if (packet->shape.size() != 2) {
    return BadPacket(
        absl::StrCat("packet shape ", codec::ShapeString(packet->shape), " is not [T, d]"));
  }
  if (packet->shape[1] != sender.hidden_size()) {
    return BadPacket(absl::StrCat("packet width ", packet->shape[1], " != registered hidden_size ",
                                  sender.hidden_size()));
  }
  if (packet->shape[0] == 0 || packet->shape[0] > sender.max_soft_tokens()) {
    return BadPacket(absl::StrCat("packet has ", packet->shape[0], " soft tokens; allowed 1..",
                                  sender.max_soft_tokens()));
  }
  codec::DecodeLimits limits;
  limits.max_elements = size_t{sender.max_soft_tokens()} * sender.hidden_size();
  // Decode validates the packet first (lengths, checksum), then checks that every value
  // is finite (fp32/fp16/bf16 can carry inf/NaN): one checksum, one decode.
  absl::StatusOr<codec::Tensor> decoded = codec::Decode(*packet, limits);
  if (!decoded.ok()) return BadPacket(decoded.status().message());
  AcceptedLatent accepted{*std::move(packet), *std::move(decoded)};
  accepted.header.payload.clear();
  accepted.header.payload.shrink_to_fit();
  return accepted;
}

}  // namespace latentbus::broker
