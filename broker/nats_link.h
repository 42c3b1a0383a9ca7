// NatsLink: one broker component's connection to the JetStream servers (libnats), with the
// options every broker connection uses: all the cluster's URLs, reconnecting for ever every
// 250 ms, writes sent at once (SendAsap: a request/reply round trip ~0.26 ms instead of
// ~1 ms), a 5 s timeout on JetStream API calls.
//
// Thread safety: the libnats handles are safe for concurrent use; the object is created
// and destroyed by one thread. Destroy subscriptions on the connection before the link.
#ifndef LATENTBUS_BROKER_NATS_LINK_H_
#define LATENTBUS_BROKER_NATS_LINK_H_

#include <nats/nats.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace latentbus::broker {

class NatsLink {
 public:
  // `servers`: comma-separated nats:// URLs; `name`: the connection's name on the servers.
  // `on_reconnected` (may be empty) runs on a libnats thread after each reconnect.
  // Unavailable naming the servers when none answers.
  static absl::StatusOr<std::unique_ptr<NatsLink>> Connect(
      const std::string& servers, const std::string& name,
      std::function<void()> on_reconnected = nullptr);
  ~NatsLink();  // flushes, closes
  NatsLink(const NatsLink&) = delete;
  NatsLink& operator=(const NatsLink&) = delete;

  natsConnection* connection() const { return nc_; }

  // For shutting down: when the connection is not up (the servers died or went away and
  // libnats is reconnecting) and does not come back within 0.6 s, closes it so that calls
  // blocked on it (JetStream requests, drains, watchers) return instead of waiting out
  // their timeouts, and returns true; a live connection is left alone (false). The handles
  // stay valid until the link is destroyed. A half-open TCP connection still counts as up
  // until libnats' pings find it dead.
  bool CloseIfServersGone();

  // For a broker draining or shutting down: from now on, once the connection has been
  // down for 0.6 s, close it (as CloseIfServersGone), so that nothing waits out a 5 s
  // timeout on servers that went away during the shutdown (a whole fleet stopping).
  // Idempotent; a thread polls the connection until it closes or the link goes.
  void CloseWhenServersGone();
  jsCtx* jetstream() const { return js_; }
  const std::string& servers() const { return servers_; }

 private:
  NatsLink() = default;
  static void OnReconnected(natsConnection*, void* closure);
  // Polls the connection until it is closed, or has been down for 0.6 s (closes it then),
  // or `keep_waiting` says stop; returns whether the connection ended up closed.
  bool CloseOnceDown(const std::function<bool()>& keep_waiting);

  std::string servers_;
  std::function<void()> on_reconnected_;
  natsOptions* options_ = nullptr;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
  std::mutex guard_mu_;  // starts the guard once
  std::thread guard_;    // CloseWhenServersGone's
  std::atomic<bool> guard_stop_{false};
};

// `what`: libnats' status text, the JetStream error code when there is one, and the
// thread's last libnats error; Unavailable for a connection or timeout problem, Internal
// otherwise.
absl::Status NatsFailure(absl::string_view what, natsStatus s, jsErrCode jerr = jsErrCode(0));

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_NATS_LINK_H_
