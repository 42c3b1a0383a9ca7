// The gateway's connections to the broker: one bus client per caller principal.
//
// A caller is identified by the bearer token it presents (none = anonymous). The gateway
// holds no rights of its own on the bus: for each distinct token it connects a text-only
// client with that token, registered as `<prefix>-<16 hex digits of the token's hash>`
// (`<prefix>-anonymous` without a token), so the broker authenticates the caller, checks
// what its principal may do (give callers' tokens `agents: ["<prefix>-*"]`) and routes the
// replies to the client that sent the request. A token the broker refuses is not kept.
//
// Each client's receive loop hands replies (deliveries with a correlation id) to the task
// store; the broker's late errors about a message (DEADLINE_EXCEEDED, QUEUE_FULL for some
// recipients) go to its task (TaskStore::OnBusError). Other deliveries are acked and dropped.
//
// At most `max_links` clients are kept: beyond, the least recently used one that no call is
// using is closed (its tasks stay readable; replies to them arrive no more).
//
// Thread safety: every method may be called from any thread; connecting one principal is
// serialized (one client per principal, never two registrations racing).
#ifndef LATENTBUS_A2A_BUS_LINKS_H_
#define LATENTBUS_A2A_BUS_LINKS_H_

#include <cstddef>
#include <list>
#include <memory>
#include <string>
#include <thread>

#include "a2a/task_store.h"
#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "agent/client/client.h"

namespace latentbus::a2a {

// One principal's client. `client` is set once connected and stays until the link closes.
class BusLink {
 public:
  BusLink(std::string principal, std::string agent_id);
  ~BusLink();  // closes the client and joins its receive loop

  const std::string& principal() const { return principal_; }
  const std::string& agent_id() const { return agent_id_; }
  agent::Client& client() { return *client_; }

 private:
  friend class BusLinks;
  const std::string principal_;
  const std::string agent_id_;
  absl::Mutex connect_mu_;                 // held while connecting
  std::unique_ptr<agent::Client> client_;  // set under connect_mu_, then read-only
  std::thread receiver_;
};

class BusLinks {
 public:
  // `base` gives the address, TLS and timeouts; agent id, token and callbacks are set here.
  BusLinks(agent::ClientOptions base, std::string id_prefix, size_t max_links, TaskStore* tasks);
  ~BusLinks();  // Close()

  // The principal key of a token: "anonymous", or 16 hex digits of its hash.
  static std::string PrincipalOf(const std::string& token);

  // The connected link for `token`, connecting on first use. The broker's refusal
  // (UNAUTHENTICATED, PERMISSION_DENIED) or UNAVAILABLE when it cannot be reached. A link
  // whose stream ended for good (its agent id registered by another process) is replaced.
  absl::StatusOr<std::shared_ptr<BusLink>> Get(const std::string& token, bool retry = true);

  // Closes every link; later Gets fail with CANCELLED.
  void Close();

 private:
  absl::Status Connect(BusLink& link, const std::string& token);
  void Receive(BusLink& link);
  void EvictIfFull() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const agent::ClientOptions base_;
  const std::string prefix_;
  const size_t max_links_;
  TaskStore* const tasks_;
  absl::Mutex mu_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_map<std::string, std::shared_ptr<BusLink>> links_ ABSL_GUARDED_BY(mu_);
  std::list<std::string> recent_ ABSL_GUARDED_BY(mu_);  // most recently used first
};

}  // namespace latentbus::a2a

#endif  // LATENTBUS_A2A_BUS_LINKS_H_
