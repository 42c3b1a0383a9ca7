// A latent packet the broker accepted (broker/validation.h): its header, and its values
// decoded once, by validation. The translator works on the values; nothing decodes the
// packet again, and the payload bytes are not kept (the envelope's copy is released
// once the router has taken the latent out of it).
#ifndef LATENTBUS_BROKER_ACCEPTED_LATENT_H_
#define LATENTBUS_BROKER_ACCEPTED_LATENT_H_

#include "codec/packet.h"

namespace latentbus::broker {

struct AcceptedLatent {
  // Model id and fingerprint, space, layer, shape, encoding; `payload` is empty.
  codec::Packet header;
  // [T, hidden_size], every value finite.
  codec::Tensor values;
};

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_ACCEPTED_LATENT_H_
