// The A2A gateway: an HTTP server that lets A2A clients (protocol 1.0, JSON-RPC binding,
// streaming as server-sent events) reach every agent and topic on a latentbus broker.
//
// Routes (every body JSON):
//   GET  /cards                                   all cards: {"agents": [...], "topics": [...]}
//   GET  /agents/<id>/.well-known/agent-card.json one agent's card (404 for an unknown agent)
//   GET  /topics/<t>/.well-known/agent-card.json  one topic's card (404 without subscribers)
//   POST /agents/<id>, POST /topics/<t>           JSON-RPC: SendMessage, SendStreamingMessage,
//                                                 GetTask, CancelTask, SubscribeToTask
//   GET  /healthz                                 200 while the gateway's bus client is up
//
// A message becomes a text envelope to the agent (or topic) that expects a reply before a
// deadline (`latentbus.timeoutSeconds` metadata, else `default_timeout`, at most
// `max_timeout`), with the message class from `latentbus.messageClass`; its task ends with
// the reply (see a2a/task_store.h for topics and failures). Requests must name protocol 1.0
// in the A2A-Version header (others, and no header, which means 0.3, get the protocol's
// VersionNotSupported error). A caller's bearer token is passed to the broker, which
// authenticates it (a2a/bus_links.h): no token where one is needed and tokens the broker
// refuses get HTTP 401, principals that may not act get 403.
//
// Thread safety: Start/Stop from one thread; the server's threads do the rest.
#ifndef LATENTBUS_A2A_GATEWAY_H_
#define LATENTBUS_A2A_GATEWAY_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "a2a/task_store.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agent/client/client.h"

namespace latentbus::a2a {

struct GatewayOptions {
  std::string listen = "127.0.0.1:8480";  // host:port; port 0 picks a free one
  // The URL callers use to reach the gateway, written into cards; "" = http://<listen>.
  std::string public_url;
  // The broker: address, TLS, connect timeout. `token` is the gateway's own, used to list
  // agents for the cards (ListAgents needs an admin principal when tokens are on).
  agent::ClientOptions bus;
  std::string id_prefix = "a2a";  // bus agent ids of the callers' clients: <prefix>-<hash>
  // Agent ids (shell globs) left out of the cards: gateways' clients are bus agents too;
  // replicas with prefixes "a2a-<name>" all match the default.
  std::vector<std::string> hidden_agents = {"a2a-*"};
  absl::Duration default_timeout = absl::Seconds(60);
  absl::Duration max_timeout = absl::Minutes(10);
  size_t http_threads = 32;                         // concurrent HTTP requests (streams hold one)
  size_t max_request_bytes = size_t{4} << 20;       // larger bodies get 413
  size_t max_links = 256;                           // caller principals with a live bus client
  absl::Duration cards_refresh = absl::Seconds(1);  // how stale the agent list may be
  TaskStoreOptions tasks;
  std::string version;  // written into cards
};

class Gateway {
 public:
  // Connects the gateway's own bus client (which also tells whether the broker requires
  // tokens), binds the port and starts serving. UNAVAILABLE when the broker cannot be
  // reached, UNAUTHENTICATED when it requires a token the gateway was not given.
  static absl::StatusOr<std::unique_ptr<Gateway>> Start(GatewayOptions options);
  ~Gateway();  // Stop()

  int port() const;
  std::string url() const;  // the public URL

  // Stops accepting, ends open streams (within about a second) and closes bus clients.
  void Stop();

 private:
  struct Impl;
  explicit Gateway(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace latentbus::a2a

#endif  // LATENTBUS_A2A_GATEWAY_H_
