// How to run one nats-server (NatsServerOptions) and the configuration file written for it.
//
// The generated file, for a JetStream node of a cluster (blocks left out when not asked for):
//
//   server_name: "n0"
//   listen: 127.0.0.1:<port>
//   http: 127.0.0.1:<monitor_port>
//   max_payload: <bytes>
//   jetstream {
//     store_dir: "<store dir>"
//     sync_interval: always      # only with sync_always
//   }
//   cluster {
//     name: "<cluster name>"
//     listen: 127.0.0.1:<cluster port>
//     routes: [ "nats://127.0.0.1:<p1>", ... ]
//   }
//
// Everything listens on loopback only.
//
// Thread safety: plain values and a pure function.
#ifndef LATENTBUS_NATS_NATS_SERVER_CONFIG_H_
#define LATENTBUS_NATS_NATS_SERVER_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "nats/nats_server_binary.h"

namespace latentbus::nats {

struct NatsClusterOptions {
  std::string name = "latentbus";   // the cluster's name, the same on every node
  int port = 0;                     // route listen port; 0 = a free one
  std::vector<std::string> routes;  // every node's "nats://127.0.0.1:<cluster port>"
                                    // (its own may be listed: nats-server skips it)
};

struct NatsServerOptions {
  // A path, or a name looked up as FindExecutable does.
  std::string binary = DefaultNatsServer();
  // The largest message the server accepts, in bytes; nats-server's default 1 MiB is raised
  // when this is larger, never lowered.
  uint64_t max_payload = 1u << 20;
  int port = 0;          // client port; 0 = a free one
  int monitor_port = 0;  // HTTP monitoring (/healthz, /jsz, /varz); 0 = a free one
  // Required for JetStream in a cluster; empty elsewhere lets nats-server name itself.
  std::string server_name;
  bool jetstream = false;
  // Empty: a temporary folder owned by the process object and removed with it. Given: used
  // and kept, so a later server (or Restart) finds its streams there.
  std::string store_dir;
  // `sync_interval: always`: JetStream fsyncs every write before acknowledging it, so a
  // message a publisher saw acked survives a crash of the machine, not only of the process.
  // Off: nats-server's default, a flush every 2 minutes.
  bool sync_always = true;
  std::optional<NatsClusterOptions> cluster;  // none: a standalone server
  // Start and Restart fail when the server does not listen within this time (nor, for a
  // standalone JetStream server, report healthy).
  absl::Duration start_timeout = absl::Seconds(10);
};

// The configuration file for `options`, whose ports (and cluster port) are already
// resolved (non-zero); `store_dir` is the JetStream folder to use.
std::string NatsServerConfig(const NatsServerOptions& options, const std::string& store_dir);

}  // namespace latentbus::nats

#endif  // LATENTBUS_NATS_NATS_SERVER_CONFIG_H_
