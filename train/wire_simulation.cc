#include "train/wire_simulation.h"

#include "codec/packet.h"
#include "torch_edge/torch_edge.h"

namespace latentbus::train {

absl::StatusOr<torch::Tensor> ThroughWire(const torch::Tensor& x, const codec::Encoding& encoding) {
  const torch::Tensor plain = x.detach();
  absl::StatusOr<codec::Packet> packet = codec::Encode(torch_edge::FromTorch(plain), encoding);
  if (!packet.ok()) return packet.status();
  absl::StatusOr<codec::Tensor> decoded = codec::Decode(*packet);
  if (!decoded.ok()) return decoded.status();
  const torch::Tensor wire = torch_edge::ToTorch(*decoded).to(x.device());
  return x + (wire - plain);
}

}  // namespace latentbus::train
