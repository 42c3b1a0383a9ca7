// Test double for network failures: a loopback TCP proxy in front of a server. Cut()
// drops every connection through it at once (both sides see a reset), as a broken
// network or a dead load balancer would; new connections keep working afterwards. Freeze()
// black-holes the traffic instead.
//
// Thread safety: Cut() and address() may be called from any thread.
#ifndef LATENTBUS_TESTS_TCP_PROXY_H_
#define LATENTBUS_TESTS_TCP_PROXY_H_

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace latentbus::testing {

class TcpProxy {
 public:
  // Listens on 127.0.0.1:0 and forwards to 127.0.0.1:`target_port`.
  explicit TcpProxy(int target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  std::string address() const;
  void Cut();
  // Stops forwarding in both directions while keeping every connection open: a peer that
  // died without closing its sockets (only keepalive can tell).
  // Returns once no pump is forwarding what it read before: nothing written after Freeze
  // returns is forwarded.
  void Freeze();
  // Forwards again what Freeze held, and everything after.
  void Thaw() { frozen_ = false; }
  int connections_accepted() const { return accepted_.load(); }

 private:
  void AcceptLoop();
  void Pump(int client_fd, int server_fd);

  int target_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> frozen_{false};
  std::atomic<int> forwarding_{0};  // pumps between their frozen_ check and the send
  std::atomic<int> accepted_{0};
  std::thread acceptor_;
  absl::Mutex mu_;
  std::vector<int> fds_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> pumps_ ABSL_GUARDED_BY(mu_);
};

}  // namespace latentbus::testing

#endif  // LATENTBUS_TESTS_TCP_PROXY_H_
