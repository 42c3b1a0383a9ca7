// BusTransport over the latentbus broker: one real Connect stream per agent (its own
// channel and TCP connection, as separate agent processes would have), on the generated
// stubs and the gRPC callback API.
//
// Each agent registers with its ModelSpec and topics and a delivery window of
// `delivery_credits`. On stream protocol revision 2 (the default, `protocol`) a request
// is acked by its reply, other deliveries cumulatively on the agent's next Send or, when
// a quarter window waits, in an Ack frame, and acks give the credits back; on revision 1
// it acks every delivery and returns delivery credits in batches of a quarter window. Sends respect
// the broker's send credits (a send without one fails locally with NO_CREDIT). Error frames are
// reported through BusHandlers::failed with the ErrorReason name.
//
// Thread safety: see bench/bus_transport.h.
#ifndef LATENTBUS_BENCH_BROKER_TRANSPORT_H_
#define LATENTBUS_BENCH_BROKER_TRANSPORT_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench/bus_transport.h"

namespace latentbus::bench {

class BrokerTransport final : public BusTransport {
 public:
  struct Options {
    std::string address;  // host:port of the broker
    // Brokers of one cluster: agent i connects to agent_addresses[i] (one per agent);
    // empty: every agent connects to `address`.
    std::vector<std::string> agent_addresses;
    // Runs at the end of Connect once every agent is registered (brokers of one cluster:
    // wait until each knows the others' agents); its error fails Connect.
    std::function<absl::Status()> after_connect;
    std::string token;  // bearer token; empty when the broker has auth off
    uint32_t delivery_credits = 1024;
    uint32_t protocol = 2;  // stream protocol revision offered (broker.proto)
  };
  explicit BrokerTransport(Options options);
  ~BrokerTransport() override;

  std::string name() const override { return "latentbus"; }
  absl::Status Connect(const std::vector<BusAgent>& agents, BusHandlers handlers) override;
  absl::Status Send(int from, const v1::Envelope& envelope) override;
  absl::Status Reply(int from, const BusDelivery& request, const v1::Envelope& reply) override;
  void Close() override;
  uint64_t WireMessages() const override;

 private:
  class Agent;
  const Options options_;
  BusHandlers handlers_;
  std::vector<std::unique_ptr<Agent>> agents_;
};

}  // namespace latentbus::bench

#endif  // LATENTBUS_BENCH_BROKER_TRANSPORT_H_
