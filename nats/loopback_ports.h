// Loopback TCP ports for child servers: free ones picked by the kernel, and a probe that
// tells whether something listens on one.
//
// A picked port is free when it is picked; another process may take it before the child
// binds it, so callers that pick ports retry a start that fails with "address already in
// use" (NatsServerProcess and NatsCluster do).
//
// Thread safety: free functions without shared state.
#ifndef LATENTBUS_NATS_LOOPBACK_PORTS_H_
#define LATENTBUS_NATS_LOOPBACK_PORTS_H_

#include <vector>

#include "absl/status/statusor.h"

namespace latentbus::nats {

// `count` distinct loopback ports nobody listens on right now (each the kernel's pick for
// port 0; all are held open until the last is picked, so none repeats). Unavailable when
// the kernel has none to give.
absl::StatusOr<std::vector<int>> FreeLoopbackPorts(int count);

// True when a TCP connection to 127.0.0.1:`port` succeeds.
bool AcceptsConnections(int port);

}  // namespace latentbus::nats

#endif  // LATENTBUS_NATS_LOOPBACK_PORTS_H_
