// Serves Metrics::RenderPrometheus at GET /metrics over plain HTTP (cpp-httplib),
// on its own thread. httplib stays out of this header (Pimpl).
//
// Thread safety: Start/Stop from one thread; the handler reads Metrics (thread-safe).
#ifndef LATENTBUS_BROKER_METRICS_HTTP_H_
#define LATENTBUS_BROKER_METRICS_HTTP_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "broker/metrics.h"

namespace latentbus::broker {

class MetricsHttpServer {
 public:
  // `address` is host:port (port 0 picks a free one). `metrics` must outlive the server.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(const std::string& address,
                                                                  const Metrics* metrics);
  ~MetricsHttpServer();  // Stop()

  int port() const { return port_; }
  void Stop();

 private:
  struct Impl;
  explicit MetricsHttpServer(std::unique_ptr<Impl> impl, int port);
  std::unique_ptr<Impl> impl_;
  int port_;
};

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_METRICS_HTTP_H_
