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

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace latentbus::nats {

class NatsServerProcess;

// A copy of a stream other than the leader's.
struct NatsStreamReplica {
  std::string name;      // the server holding it
  bool current = false;  // caught up with the leader
  bool offline = false;
  uint64_t lag = 0;  // entries behind the leader
};

struct NatsStream {
  std::string name;
  std::string leader;  // the server leading it; empty while none is elected (or standalone)
  std::vector<NatsStreamReplica> replicas;  // the other copies (none for one copy)
  uint64_t messages = 0;
};

struct NatsHealth {
  bool healthy = false;             // /healthz answered 200
  bool jetstream = false;           // /jsz reports JetStream enabled
  std::string meta_leader;          // /jsz's meta_cluster.leader; empty standalone or none yet
  std::string problem;              // why not healthy: /healthz's error, or no answer
  std::vector<NatsStream> streams;  // as this server sees them; only when asked for
};

// One look at the monitoring endpoint on 127.0.0.1:`monitor_port` (each request gives up
// after about a second); `streams` asks /jsz for the streams too.
NatsHealth ProbeNatsHealth(int monitor_port, bool streams = false);

// Why each node is not ready yet, "" for one that is: `probes[i]` is node i's look. A node
// is ready when healthy and, with `jetstream`, running JetStream; when `clustered`, it must
// also name the meta leader the first node that names one names. For nodes started alike.
std::vector<std::string> ReadinessProblems(const std::vector<NatsHealth>& probes, bool jetstream,
                                           bool clustered);

// Every stream found in `probes` (servers asked with `streams`) once, in name order, as its
// leader reports it: the view of the server that holds it and does not list the leader among
// the other copies. Without the leader's answer, another server's view (whose `current`
// flags may be stale).
std::vector<NatsStream> StreamsAsLeadersSee(const std::vector<NatsHealth>& probes);

// Polls every node until each is healthy, has JetStream when it was started with it, and,
// when `clustered`, all name the same meta leader. DeadlineExceeded after `timeout`, with
// each node's last problem and the tail of its log; FailedPrecondition at once, with its
// log's tail, for a node that is not running (killed, stopped by Stop(), or crashed).
absl::Status WaitNatsReady(const std::vector<NatsServerProcess*>& nodes, bool clustered,
                           absl::Duration timeout);

}  // namespace latentbus::nats

#endif  // LATENTBUS_NATS_NATS_HEALTH_H_
