// The seam between `latentbus bench bus`'s workload driver and the systems it measures
// (the broker, the bare gRPC relay, nats-server): each BusTransport connects N simulated
// agents to its system and moves latentbus.v1.Envelope messages between them.
//
// Every transport carries the same bytes: the broker gets the Envelope in its Send
// frame; the relay and NATS carry the Envelope serialized as their opaque payload, and
// the receiving side parses it back (as a broker client gets it parsed by gRPC).
//
// Thread safety: Connect and Close from one thread. Send and Reply are safe for
// concurrent use once Connect returned. Handlers run on the transport's threads,
// concurrently for different agents and one at a time for one agent.
#ifndef LATENTBUS_BENCH_BUS_TRANSPORT_H_
#define LATENTBUS_BENCH_BUS_TRANSPORT_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "latentbus/v1/envelope.pb.h"
#include "latentbus/v1/model.pb.h"

namespace latentbus::bench {

// One simulated agent: its id, the model it registers with (the broker validates and
// translates latents by it; the baselines ignore it) and the topics it subscribes to.
struct BusAgent {
  std::string id;
  v1::ModelSpec model;
  std::vector<std::string> topics;
};

// A message handed to an agent.
struct BusDelivery {
  int agent = 0;  // index into the agents given to Connect
  const v1::Envelope* envelope = nullptr;
  // Where a reply to this message goes, in the transport's own terms (the sender's
  // agent id; for NATS the message's reply inbox).
  std::string reply_to;
};

struct BusHandlers {
  std::function<void(const BusDelivery& delivery)> deliver;
  // The system refused or failed a message `agent` sent (message id and a reason name,
  // e.g. "QUEUE_FULL", "NO_CREDIT", "slow_consumer").
  std::function<void(int agent, const std::string& message_id, const std::string& reason)> failed;
};

class BusTransport {
 public:
  virtual ~BusTransport() = default;

  // "latentbus", "relay", "nats".
  virtual std::string name() const = 0;

  // Connects every agent (registration, subscriptions) and returns once all are ready
  // to send and receive; an error names the agent that failed.
  virtual absl::Status Connect(const std::vector<BusAgent>& agents, BusHandlers handlers) = 0;

  // Agent `from` sends `envelope` to its recipient (an agent id or a topic). Returns
  // without waiting for delivery; an error means nothing was sent (and is reported only
  // here, not through `failed`).
  virtual absl::Status Send(int from, const v1::Envelope& envelope) = 0;

  // Agent `from` answers `request` with `reply` (reply's correlation_id already set).
  virtual absl::Status Reply(int from, const BusDelivery& request, const v1::Envelope& reply) = 0;

  // Ends every agent's connection. Idempotent.
  virtual void Close() = 0;

  // Messages the agents wrote to and read from the system so far, all agents together:
  // gRPC messages on their streams (relay, broker: every frame, acks and credits
  // included), NATS messages published and received (PUB / MSG; not PING / PONG).
  virtual uint64_t WireMessages() const = 0;

  // Transport-specific counters worth reporting (e.g. NATS dropped messages).
  virtual std::map<std::string, uint64_t> Counters() const { return {}; }
};

}  // namespace latentbus::bench

#endif  // LATENTBUS_BENCH_BUS_TRANSPORT_H_
