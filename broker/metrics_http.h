// Serves Metrics::RenderPrometheus at GET /metrics over plain HTTP/1.x, on one thread of
// its own that polls every connection: an idle or slow client holds no worker, so idle
// connections cannot starve a scrape (an earlier thread-pool server waited seconds per
// idle connection).
//
// Bounds: at most kMaxConnections open (the oldest is closed to admit a new one), a
// request head of at most kMaxRequestBytes (431 beyond), kRequestTimeout to send it
// (then closed), one request per connection (Connection: close). With `authorize`
// set, the request must carry `Authorization: Bearer <token>` with a token it accepts
// (401 otherwise); the broker accepts admin tokens (`metrics_auth: true`).
//
// Thread safety: Start/Stop from one thread; the poll thread reads Metrics (thread-safe).
#ifndef LATENTBUS_BROKER_METRICS_HTTP_H_
#define LATENTBUS_BROKER_METRICS_HTTP_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "broker/metrics.h"

namespace latentbus::broker {

class MetricsHttpServer {
 public:
  static constexpr size_t kMaxConnections = 256;
  static constexpr size_t kMaxRequestBytes = 8192;
  static constexpr absl::Duration kRequestTimeout = absl::Seconds(2);

  using Authorize = std::function<bool(absl::string_view bearer_token)>;

  // `address` is host:port (port 0 picks a free one; a port in use is an error).
  // `metrics` must outlive the server. `authorize` null: no credentials needed.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(const std::string& address,
                                                                  const Metrics* metrics,
                                                                  Authorize authorize = nullptr);
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
