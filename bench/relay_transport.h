// BusTransport over the bare relay (bench/relay_server.h): one Relay stream per agent,
// each on its own channel. A message to an agent is one frame to that peer; a topic
// message is one frame naming every subscriber (the relay copies it per peer), the
// topic's subscribers taken from the agents' topic lists at Connect. The body is the
// serialized Envelope.
//
// Thread safety: see bench/bus_transport.h.
#ifndef LATENTBUS_BENCH_RELAY_TRANSPORT_H_
#define LATENTBUS_BENCH_RELAY_TRANSPORT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "bench/bus_transport.h"

namespace latentbus::bench {

class RelayTransport final : public BusTransport {
 public:
  explicit RelayTransport(std::string address);
  ~RelayTransport() override;

  std::string name() const override { return "relay"; }
  absl::Status Connect(const std::vector<BusAgent>& agents, BusHandlers handlers) override;
  absl::Status Send(int from, const v1::Envelope& envelope) override;
  absl::Status Reply(int from, const BusDelivery& request, const v1::Envelope& reply) override;
  void Close() override;
  uint64_t WireMessages() const override;

 private:
  class Peer;
  absl::Status SendTo(int from, std::vector<std::string> to, const v1::Envelope& envelope);

  const std::string address_;
  BusHandlers handlers_;
  std::vector<std::unique_ptr<Peer>> peers_;
  std::vector<std::string> names_;
  absl::flat_hash_map<std::string, std::vector<std::string>> subscribers_;  // by topic
};

}  // namespace latentbus::bench

#endif  // LATENTBUS_BENCH_RELAY_TRANSPORT_H_
