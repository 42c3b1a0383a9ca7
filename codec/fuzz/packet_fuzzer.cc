// libFuzzer target: arbitrary bytes as a serialized latentbus.v1.LatentPacket, through
// FromProto and Decode, the path every received packet takes. A second pass re-seals
// the checksum so that mutations also reach the length checks and the decode kernels
// (a fuzzer cannot forge XXH3). Invariants beyond "no crash, no sanitizer report":
// a decode that succeeds returns exactly product(shape) finite floats.
#include <cmath>
#include <cstdint>
#include <cstdlib>

#include "codec/packet.h"
#include "codec/packet_proto.h"
#include "latentbus/v1/latent.pb.h"

namespace {

void CheckDecoded(const latentbus::codec::Packet& packet,
                  const latentbus::codec::DecodeLimits& limits) {
  absl::StatusOr<latentbus::codec::Tensor> t = latentbus::codec::Decode(packet, limits);
  if (!t.ok()) {
    if (t.status().message().empty()) std::abort();  // every refusal explains itself
    return;
  }
  if (t->data.size() != latentbus::codec::NumElements(packet.shape)) std::abort();
  for (float v : t->data) {
    if (!std::isfinite(v)) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  latentbus::v1::LatentPacket proto;
  if (!proto.ParseFromArray(data, static_cast<int>(size))) return 0;
  absl::StatusOr<latentbus::codec::Packet> packet = latentbus::codec::FromProto(std::move(proto));
  if (!packet.ok()) return 0;
  latentbus::codec::DecodeLimits limits;
  limits.max_elements = size_t{1} << 20;  // keeps one execution well under a second
  CheckDecoded(*packet, limits);
  packet->checksum = latentbus::codec::ComputeChecksum(*packet);
  CheckDecoded(*packet, limits);
  return 0;
}
