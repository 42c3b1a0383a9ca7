// The wire's effect on a latent during training: the value goes through the real codec
// (encode then decode in the given encoding, exactly as a packet on the bus), the
// gradient passes straight through (the rounding has no useful derivative).
//
// Thread safety: pure.
#ifndef LATENTBUS_TRAIN_WIRE_SIMULATION_H_
#define LATENTBUS_TRAIN_WIRE_SIMULATION_H_

#include <torch/torch.h>

#include "absl/status/statusor.h"
#include "codec/encoding.h"

namespace latentbus::train {

// [T, d] float32 -> the same values after an Encode/Decode round trip; the result's
// gradient flows to `x` unchanged (straight-through). Errors are the codec's (e.g. a
// width the group size does not divide).
absl::StatusOr<torch::Tensor> ThroughWire(const torch::Tensor& x, const codec::Encoding& encoding);

}  // namespace latentbus::train

#endif  // LATENTBUS_TRAIN_WIRE_SIMULATION_H_
