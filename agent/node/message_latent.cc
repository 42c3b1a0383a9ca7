#include "agent/node/message_latent.h"

#include "codec/packet.h"

namespace latentbus::agent::node {

absl::StatusOr<codec::Tensor> MessageHiddenStates(const llm::Model& model, const std::string& text,
                                                  int layer) {
  absl::StatusOr<llm::EncodeResult> e = model.Encode(text, {layer});
  if (!e.ok()) return e.status();
  absl::StatusOr<llm::EncodeResult> bos = model.Tokenize("", /*add_bos=*/true);
  if (!bos.ok()) return bos.status();
  codec::Tensor h = std::move(e->hidden[0]);
  const bool has_bos =
      !bos->token_ids.empty() && !e->token_ids.empty() && e->token_ids[0] == bos->token_ids[0];
  if (has_bos && h.shape[0] > 1) {
    h.data.erase(h.data.begin(), h.data.begin() + static_cast<ptrdiff_t>(h.shape[1]));
    h.shape[0] -= 1;
  }
  return h;
}

absl::StatusOr<codec::Tensor> WireLatent(const llm::Model& model, const std::string& text,
                                         int layer, const codec::Encoding& encoding) {
  absl::StatusOr<codec::Tensor> h = MessageHiddenStates(model, text, layer);
  if (!h.ok()) return h.status();
  absl::StatusOr<codec::Packet> packet = codec::Encode(*h, encoding);
  if (!packet.ok()) return packet.status();
  return codec::Decode(*packet);
}

}  // namespace latentbus::agent::node
