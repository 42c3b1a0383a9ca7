// A running broker: the gRPC server (Connect + unary RPCs, grpc.health.v1, server
// reflection, keepalive, message size limits, optional TLS/mTLS) plus the Prometheus
// endpoint, around one Broker.
//
// Health: SERVING from Start until Drain, NOT_SERVING from Drain on. With
// config.health_address set, a second plaintext server answers grpc.health.v1 (and
// nothing else) with the same status, for probes that cannot do TLS (kubelet).
// Drain(timeout): health NOT_SERVING, registrations refused with DRAINING and so are
// sends (except in cluster mode), GoAway to every stream; in cluster mode (the queues outlive this
// broker) the streams are then ended a few at a time over half of `timeout` (at most
// 5 s), so that the agents move to the other brokers gradually (Broker::ShedSessions);
// wait up to `timeout` until every queue is delivered and acked, then shut down gRPC
// (remaining streams are cancelled).
//
// Thread safety: Drain, Shutdown and Wait may be called from any thread; Drain and
// Shutdown are idempotent.
#ifndef LATENTBUS_BROKER_SERVER_H_
#define LATENTBUS_BROKER_SERVER_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "broker/broker.h"

namespace grpc {
class Server;
}

namespace latentbus::broker {

class BrokerService;
class JetStreamDirectory;
class MetricsHttpServer;

class BrokerServer {
 public:
  // Binds config.listen_address (port 0 picks one; see port()) and, when set,
  // config.metrics_address and config.health_address. UNAVAILABLE when a port cannot be bound,
  // INVALID_ARGUMENT / NOT_FOUND for unreadable TLS files.
  static absl::StatusOr<std::unique_ptr<BrokerServer>> Start(BrokerOptions options);
  ~BrokerServer();  // Shutdown()

  int port() const { return port_; }
  int metrics_port() const;                         // 0 when metrics are off
  int health_port() const { return health_port_; }  // 0 without a health-only port
  Broker& broker() { return *broker_; }
  // The cluster's agent directory; null without a cluster.
  JetStreamDirectory* directory() { return directory_.get(); }

  void Drain(absl::Duration timeout);
  void Shutdown();
  // Blocks until Shutdown (or Drain) has completed.
  void Wait();

 private:
  BrokerServer() = default;
  void SetServing(bool serving);

  std::unique_ptr<Broker> broker_;
  std::unique_ptr<JetStreamDirectory> directory_;  // with a cluster; goes before broker_
  std::unique_ptr<BrokerService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<grpc::Server> health_server_;  // grpc.health.v1 only, plaintext
  std::unique_ptr<MetricsHttpServer> metrics_http_;
  int port_ = 0;
  int health_port_ = 0;

  absl::Mutex mu_;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_SERVER_H_
