#include "bench/bus_payload.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "codec/packet.h"
#include "codec/packet_proto.h"
#include "codec/synthetic.h"

namespace latentbus::bench {
namespace {

size_t ContentBytes(uint32_t rows, uint32_t width, const codec::Encoding& e) {
  const size_t n = size_t{rows} * width;
  return codec::PayloadBytes(e, n) + codec::NumGroups(e, n) * sizeof(float);
}

}  // namespace

uint32_t RowsForBytes(size_t bytes, uint32_t width, const codec::Encoding& encoding) {
  if (width == 0) return 1;
  uint32_t rows = 1;
  while (ContentBytes(rows + 1, width, encoding) <= bytes) ++rows;
  return rows;
}

absl::StatusOr<Payload> MakePayload(const PayloadSpec& spec, const v1::ModelSpec& sender) {
  Payload out;
  out.envelope.set_message_class(v1::MESSAGE_CLASS_CONTEXT);
  if (!spec.latent) {
    if (spec.text_bytes == 0) return absl::InvalidArgumentError("a text payload needs bytes");
    out.envelope.set_text(std::string(spec.text_bytes, 'x'));
    out.content_bytes = spec.text_bytes;
    out.description = absl::StrCat("text ", spec.text_bytes, " B");
    out.envelope_bytes = out.envelope.ByteSizeLong();
    return out;
  }
  if (spec.width == 0) return absl::InvalidArgumentError("latent width must be >= 1");
  if (spec.width != sender.hidden_size()) {
    return absl::InvalidArgumentError(absl::StrCat("latent width ", spec.width,
                                                   " differs from the sender model's hidden size ",
                                                   sender.hidden_size()));
  }
  const uint32_t rows =
      spec.rows != 0 ? spec.rows : RowsForBytes(spec.packet_bytes, spec.width, spec.encoding);
  const codec::Tensor t = codec::OutlierTensor(rows, spec.width, 42);
  absl::StatusOr<codec::Packet> packet = codec::Encode(t, spec.encoding);
  if (!packet.ok()) return packet.status();
  packet->model_id = sender.model_id();
  packet->model_fingerprint = sender.fingerprint();
  packet->space = codec::Space::kHidden;
  packet->layer = sender.tap_layer();
  out.rows = rows;
  out.content_bytes = packet->payload.size() + packet->scales.size();
  *out.envelope.mutable_latent() = codec::ToProto(*std::move(packet));
  out.description =
      absl::StrCat("latent [", rows, ", ", spec.width, "] ", codec::EncodingName(spec.encoding));
  out.envelope_bytes = out.envelope.ByteSizeLong();
  return out;
}

Payload TextOfSameSize(const Payload& payload) {
  Payload out;
  out.envelope.set_message_class(payload.envelope.message_class());
  // The length prefix of the text field grows with its length; aim at the same total.
  size_t n = payload.envelope_bytes;
  out.envelope.set_text(std::string(n, 'x'));
  while (n > 1 && out.envelope.ByteSizeLong() > payload.envelope_bytes) {
    out.envelope.set_text(std::string(--n, 'x'));
  }
  out.content_bytes = n;
  out.envelope_bytes = out.envelope.ByteSizeLong();
  out.description = absl::StrCat("text ", n, " B (same envelope size as the latent)");
  return out;
}

}  // namespace latentbus::bench
