// The bare gRPC relay (bench/relay.proto) on the same callback API as the broker: the
// floor `latentbus bench bus` compares the broker with. One reactor per stream, one
// outstanding write per stream fed from a queue, a name -> stream map, nothing else.
//
// Thread safety: Start/Shutdown from one thread; the server's reactions run on gRPC's
// threads and share only the peer map (under a mutex) and each stream's outbox.
#ifndef LATENTBUS_BENCH_RELAY_SERVER_H_
#define LATENTBUS_BENCH_RELAY_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace grpc {
class Server;
}

namespace latentbus::bench {

class RelayService;

class RelayServer {
 public:
  // Listens on `address` (host:port; port 0 picks one). UNAVAILABLE when it cannot bind.
  static absl::StatusOr<std::unique_ptr<RelayServer>> Start(const std::string& address);
  ~RelayServer();  // Shutdown()

  int port() const { return port_; }
  // Cancels open streams after a short grace period and stops the server. Idempotent.
  void Shutdown();

 private:
  RelayServer() = default;
  std::unique_ptr<RelayService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace latentbus::bench

#endif  // LATENTBUS_BENCH_RELAY_SERVER_H_
