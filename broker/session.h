// The broker's handle on one connected agent: where frames for it go.
//
// Implemented by the Connect stream's reactor (broker/connect_reactor.h); the
// registry, the delivery layer, the router and the timer hold sessions through
// shared_ptr, so a session outlives its stream: after the stream ends Push returns
// false and drops the frame.
//
// Thread safety: implementations are safe for concurrent use and never block.
#ifndef LATENTBUS_BROKER_SESSION_H_
#define LATENTBUS_BROKER_SESSION_H_

#include "absl/status/status.h"
#include "latentbus/v1/broker.pb.h"

namespace latentbus::broker {

class AgentSession {
 public:
  virtual ~AgentSession() = default;

  // Queues `frame` for the agent. False (frame dropped) once the stream is ending.
  virtual bool Push(v1::BrokerFrame frame) = 0;

  // Ends the stream with `status` (e.g. ABORTED when a new stream took the agent id)
  // once the frame being written, if any, is out.
  virtual void End(const absl::Status& status) = 0;

  // True while more than a small budget of pushed frames waits to be written (the agent
  // reads slowly, or not at all): the delivery layer then hands it no more deliveries,
  // whatever its credits, so what is queued exists once (in the queue), not twice. The
  // session calls DeliveryLayer::Resume when it has caught up.
  virtual bool Backlogged() const { return false; }

  // True when the agent speaks stream protocol revision 2: every acked delivery gives its
  // delivery credit back (no Credit frames). Fixed for the session's life.
  virtual bool AcksReturnCredits() const { return false; }
};

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_SESSION_H_
