// Health of running nats-servers as their HTTP monitoring endpoints report it.
//
// A server is healthy when GET /healthz answers 200: for a JetStream server that already
// means JetStream is up and, in a cluster, in contact with a meta leader and current with
// its streams and consumers. (`/healthz?js-enabled-only=true` is not used: it answers 200
// even from a server without JetStream.) GET /jsz tells whether JetStream is enabled and
// which server leads the meta group.
//
// Thread safety: free functions without shared state.
#ifndef LATENTBUS_NATS_NATS_HEALTH_H_
#define LATENTBUS_NATS_NATS_HEALTH_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace latentbus::nats {

class NatsServerProcess;

struct NatsHealth {
  bool healthy = false;     // /healthz answered 200
  bool jetstream = false;   // /jsz reports JetStream enabled
  std::string meta_leader;  // /jsz's meta_cluster.leader; empty standalone or none yet
  std::string problem;      // why not healthy: /healthz's error, or no answer
};

// One look at the monitoring endpoint on 127.0.0.1:`monitor_port` (each request gives up
// after about a second).
NatsHealth ProbeNatsHealth(int monitor_port);

// Polls every node until each is healthy, has JetStream when it was started with it, and,
// when `clustered`, all name the same meta leader. DeadlineExceeded after `timeout`, with
// each node's last problem and the tail of its log; FailedPrecondition at once, with its
// log's tail, for a node that is not running (killed, stopped by Stop(), or crashed).
absl::Status WaitNatsReady(const std::vector<NatsServerProcess*>& nodes, bool clustered,
                           absl::Duration timeout);

}  // namespace latentbus::nats

#endif  // LATENTBUS_NATS_NATS_HEALTH_H_
