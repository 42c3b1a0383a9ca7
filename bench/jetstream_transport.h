// BusTransport over NATS JetStream with the NATS C client alone: the engine's own
// publish -> fetch -> ack, the floor under `latentbus broker --cluster` (`bench bus
// --cluster`). One connection per agent; one work-queue stream "BENCHJS" on file storage
// with `replicas` copies; agent <id> receives on subject "BENCHJS.q.<id>" through its own
// durable pull consumer. A send is a synchronous JetStream publish (it returns once the
// stream leader acknowledged it, as the broker waits before its SendResult) with the
// message id as Nats-Msg-Id; each agent's fetch thread takes one message at a time,
// hands it over and acks it. A request's reply is a publish to the requester's subject,
// so a round trip is two JetStream hops. Topics are not supported (no single-hop
// JetStream equivalent of the broker's fan-out): Connect refuses agents with topics.
//
// Thread safety: see bench/bus_transport.h. Handlers for one agent run on its fetch
// thread, one at a time. A failed fetch (e.g. during a consumer leader change) is retried:
// a message it delays shows in the latency, one it loses in `lost`.
#ifndef LATENTBUS_BENCH_JETSTREAM_TRANSPORT_H_
#define LATENTBUS_BENCH_JETSTREAM_TRANSPORT_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "bench/bus_transport.h"

namespace latentbus::bench {

class JetStreamTransport final : public BusTransport {
 public:
  // `servers`: comma-separated nats:// URLs of a JetStream cluster (or one server).
  JetStreamTransport(std::string servers, int replicas);
  ~JetStreamTransport() override;

  std::string name() const override { return "jetstream"; }
  absl::Status Connect(const std::vector<BusAgent>& agents, BusHandlers handlers) override;
  absl::Status Send(int from, const v1::Envelope& envelope) override;
  absl::Status Reply(int from, const BusDelivery& request, const v1::Envelope& reply) override;
  void Close() override;
  uint64_t WireMessages() const override { return wire_messages_.load(); }

 private:
  struct Agent;
  absl::Status Publish(int from, const std::string& recipient, const v1::Envelope& envelope);
  void FetchLoop(Agent* agent);

  const std::string servers_;
  const int replicas_;
  BusHandlers handlers_;
  std::vector<std::unique_ptr<Agent>> agents_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> wire_messages_{0};
};

}  // namespace latentbus::bench

#endif  // LATENTBUS_BENCH_JETSTREAM_TRANSPORT_H_
