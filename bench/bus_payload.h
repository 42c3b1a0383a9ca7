// What `latentbus bench bus` sends: a text of a given length, or a real latent packet
// [T, d] (codec-encoded synthetic hidden states with outlier channels) in the sender's
// hidden space, inside a latentbus.v1.Envelope every measured system carries as it is.
//
// Thread safety: pure functions.
#ifndef LATENTBUS_BENCH_BUS_PAYLOAD_H_
#define LATENTBUS_BENCH_BUS_PAYLOAD_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "codec/encoding.h"
#include "latentbus/v1/envelope.pb.h"
#include "latentbus/v1/model.pb.h"

namespace latentbus::bench {

struct PayloadSpec {
  bool latent = true;
  size_t text_bytes = 0;  // text payloads: this many bytes of ASCII
  // Latents: rows (soft tokens) and width; rows 0 => derived from `packet_bytes`.
  uint32_t rows = 0;
  uint32_t width = 576;
  codec::Encoding encoding = codec::DefaultEncoding();
  // Latents without explicit rows: the packet's scales + payload bytes aim at this.
  size_t packet_bytes = 16384;
};

// The most rows of `width` whose scales + payload fit in `bytes` under `encoding` (at
// least 1). 16 KiB of int4/g32 at d = 576 is 45 rows (45 * (288 + 72) = 16200 bytes).
uint32_t RowsForBytes(size_t bytes, uint32_t width, const codec::Encoding& encoding);

struct Payload {
  std::string description;  // e.g. "latent [45, 576] int4/g32", "text 16384 B"
  // message_class CONTEXT, and the text or the latent (space HIDDEN of `sender`'s model
  // at its tap layer); no ids or recipient yet.
  v1::Envelope envelope;
  size_t content_bytes = 0;   // text bytes, or latent scales + payload bytes
  size_t envelope_bytes = 0;  // serialized Envelope, before ids and metadata
  uint32_t rows = 0;          // latents
};

// InvalidArgument for an empty text, a zero width, or a latent width different from
// the sender's hidden size.
absl::StatusOr<Payload> MakePayload(const PayloadSpec& spec, const v1::ModelSpec& sender);

// A text payload whose serialized envelope is as large as `payload`'s: the same bytes
// through the broker without latent validation or translation.
Payload TextOfSameSize(const Payload& payload);

}  // namespace latentbus::bench

#endif  // LATENTBUS_BENCH_BUS_PAYLOAD_H_
