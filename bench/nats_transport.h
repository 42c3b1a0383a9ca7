// BusTransport over nats-server with the NATS C client (libnats): one connection per
// agent. Subjects: an agent receives direct messages on "bench.agent.<id>", topic
// messages on "bench.topic.<topic>", and replies on its inbox "bench.inbox.<id>"; a
// request (expects_reply) is published with that inbox as its reply subject and the
// responder publishes its reply to the request's reply subject (NATS request/reply).
// The payload is the serialized Envelope. Connections use "send ASAP" (no client-side
// batching of publishes), NATS's lowest-latency setting.
//
// Async subscriptions deliver on one thread per subscription, so handlers for one agent
// may run concurrently (its own subject, a topic, its inbox).
//
// Thread safety: see bench/bus_transport.h.
#ifndef LATENTBUS_BENCH_NATS_TRANSPORT_H_
#define LATENTBUS_BENCH_NATS_TRANSPORT_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "bench/bus_transport.h"

namespace latentbus::bench {

class NatsTransport final : public BusTransport {
 public:
  explicit NatsTransport(std::string url);
  ~NatsTransport() override;

  std::string name() const override { return "nats"; }
  absl::Status Connect(const std::vector<BusAgent>& agents, BusHandlers handlers) override;
  absl::Status Send(int from, const v1::Envelope& envelope) override;
  absl::Status Reply(int from, const BusDelivery& request, const v1::Envelope& reply) override;
  void Close() override;
  std::map<std::string, uint64_t> Counters() const override;
  uint64_t WireMessages() const override { return wire_messages_.load(); }

  // Called from the client library's callbacks (public for them only).
  struct Subscription;
  struct Agent;
  void OnMessage(Subscription* sub, const char* data, int length, const char* reply);
  void OnSlowConsumer() { slow_consumers_.fetch_add(1, std::memory_order_relaxed); }

 private:
  absl::Status Publish(int from, const std::string& subject, const char* reply,
                       const v1::Envelope& envelope);

  const std::string url_;
  BusHandlers handlers_;
  std::vector<std::unique_ptr<Agent>> agents_;
  std::atomic<uint64_t> slow_consumers_{0};
  std::atomic<uint64_t> wire_messages_{0};
};

}  // namespace latentbus::bench

#endif  // LATENTBUS_BENCH_NATS_TRANSPORT_H_
