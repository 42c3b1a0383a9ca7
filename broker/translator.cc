#include "broker/translator.h"

#include "absl/strings/str_cat.h"

namespace latentbus::broker {

absl::StatusOr<std::vector<codec::Packet>> BridgeTranslator::Translate(
    const Bridge& bridge, absl::Span<const AcceptedLatent* const> latents,
    const TranslationTarget& target) const {
  const BridgeInfo& info = bridge.info();
  if (!(info.dst == target.model)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bridge ", info.id, " maps to ", info.dst.ToString(), ", not ", target.model.ToString()));
  }
  // The values validation decoded, borrowed (not copied) for the bridge.
  std::vector<const codec::Tensor*> inputs;
  inputs.reserve(latents.size());
  for (const AcceptedLatent* latent : latents) {
    const codec::Packet& header = latent->header;
    if (header.model_id != info.src.model_id || header.model_fingerprint != info.src.fingerprint) {
      return absl::InvalidArgumentError(
          absl::StrCat("packet of ", header.model_id, " given to bridge ", info.id));
    }
    if (info.src_dim != 0 && latent->values.width() != info.src_dim) {
      return absl::InvalidArgumentError(absl::StrCat(
          "bridge ", info.id, " expects width ", info.src_dim, ", got ", latent->values.width()));
    }
    inputs.push_back(&latent->values);
  }
  absl::StatusOr<std::vector<codec::Tensor>> outputs = bridge.Apply(inputs);
  if (!outputs.ok()) return outputs.status();
  if (outputs->size() != inputs.size()) {
    return absl::InternalError(absl::StrCat("bridge ", info.id, " returned ", outputs->size(),
                                            " tensors for ", inputs.size()));
  }
  std::vector<codec::Packet> result(outputs->size());
  for (size_t i = 0; i < outputs->size(); ++i) {
    const codec::Tensor& out = (*outputs)[i];
    if (out.shape.size() != 2 || out.shape[1] != target.embedding_size) {
      return absl::InternalError(absl::StrCat("bridge ", info.id, " produced ",
                                              codec::ShapeString(out.shape), ", want [T, ",
                                              target.embedding_size, "]"));
    }
    codec::Packet& packet = result[i];
    if (absl::Status s = codec::EncodeInto(out.data, out.shape, target.encoding, &packet);
        !s.ok()) {
      return s;
    }
    packet.model_id = target.model.model_id;
    packet.model_fingerprint = target.model.fingerprint;
    packet.space = codec::Space::kInputEmbedding;
    packet.layer = 0;
  }
  return result;
}

}  // namespace latentbus::broker
