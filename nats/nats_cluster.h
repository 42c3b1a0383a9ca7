// A JetStream cluster of nats-servers as child processes on loopback: n nodes (3 for a
// quorum that survives one fault), routed to each other, each with its own store folder
// under one root. Nodes are NatsServerProcess objects, so fault tests kill, stop and
// restart them one by one through node(i).
//
// Thread safety: one owner thread.
#ifndef LATENTBUS_NATS_NATS_CLUSTER_H_
#define LATENTBUS_NATS_NATS_CLUSTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nats/nats_server_config.h"
#include "nats/nats_server_process.h"

namespace latentbus::nats {

class NatsCluster {
 public:
  // Starts `n` (>= 1) JetStream nodes named <prefix>0 .. <prefix>{n-1} and returns once each
  // accepts client connections; WaitReady tells when JetStream is usable. `node` is every
  // node's template: binary, max_payload, sync_always and start_timeout are used as given;
  // server_name is the prefix ("n" when empty); cluster->name is the cluster's name
  // ("latentbus" without `cluster`); JetStream is always on. Its ports
  // must be 0: each node gets free ones (all picked again when another process takes one
  // first). `node.store_dir` is the root: node i stores in <root>/<prefix>i; a given root is
  // kept, an empty one is a temporary folder removed with the cluster.
  // Errors: InvalidArgument (n < 1, a port set), and those of NatsServerProcess::Start.
  static absl::StatusOr<std::unique_ptr<NatsCluster>> Start(int n, NatsServerOptions node = {});
  // Stops every node; removes the root when it is temporary.
  ~NatsCluster();
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;

  int size() const { return static_cast<int>(nodes_.size()); }
  // Node i, 0 <= i < size().
  NatsServerProcess& node(int i) { return *nodes_.at(i); }
  // Every node's client URL, comma-separated, as NATS clients take a server list:
  // "nats://127.0.0.1:p0,nats://127.0.0.1:p1,...".
  std::string urls() const;
  // The folder holding every node's store folder.
  const std::string& root() const { return root_; }

  // Polls every node's monitoring endpoint until each is healthy and all name the same
  // JetStream meta leader (nats/nats_health.h). DeadlineExceeded after `timeout` with each
  // node's problem and log tail; FailedPrecondition at once when a node is not running.
  absl::Status WaitReady(absl::Duration timeout);

  // Stops every node (NatsServerProcess::Stop); idempotent.
  void Stop();

 private:
  NatsCluster() = default;
  // Starts every node on freshly picked ports; on failure, nodes_ holds those that started.
  absl::Status StartNodes(int n, const NatsServerOptions& node);

  std::string root_;
  bool owns_root_ = false;
  std::vector<std::unique_ptr<NatsServerProcess>> nodes_;
};

}  // namespace latentbus::nats

#endif  // LATENTBUS_NATS_NATS_CLUSTER_H_
