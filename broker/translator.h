// Translation of latent packets from the sender's hidden space into a receiver's
// input-embedding space.
//
// Translator is the seam the translation pool (broker/translation_pool.h) calls: it
// takes accepted latents in the sender's space (decoded once, by validation) that share
// one bridge and returns packets in the receiver's input-embedding space, encoded in the
// receiver's preferred encoding. BridgeTranslator is the production implementation:
// Bridge::Apply over the whole batch, then quantize.
//
// Thread safety: implementations must allow concurrent Translate calls.
#ifndef LATENTBUS_BROKER_TRANSLATOR_H_
#define LATENTBUS_BROKER_TRANSLATOR_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "broker/accepted_latent.h"
#include "broker/bridge.h"
#include "codec/encoding.h"
#include "codec/packet.h"

namespace latentbus::broker {

// The receiver a batch is translated for.
struct TranslationTarget {
  ModelKey model;
  uint32_t embedding_size = 0;
  codec::Encoding encoding;

  bool operator==(const TranslationTarget& o) const {
    return model == o.model && embedding_size == o.embedding_size && encoding == o.encoding;
  }
};

class Translator {
 public:
  virtual ~Translator() = default;

  // `latents` were accepted by validation (broker/validation.h), in
  // `bridge.info().src`'s hidden space, their values already decoded. Returns one packet
  // per input, in order: model = target.model, space INPUT_EMBEDDING, shape
  // [T', target.embedding_size], encoding target.encoding, valid checksum. An error fails
  // the whole batch.
  virtual absl::StatusOr<std::vector<codec::Packet>> Translate(
      const Bridge& bridge, absl::Span<const AcceptedLatent* const> latents,
      const TranslationTarget& target) const = 0;
};

class BridgeTranslator final : public Translator {
 public:
  absl::StatusOr<std::vector<codec::Packet>> Translate(
      const Bridge& bridge, absl::Span<const AcceptedLatent* const> latents,
      const TranslationTarget& target) const override;
};

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_TRANSLATOR_H_
