// Agents, connected and recently disconnected, and the connected ones' topic
// subscriptions.
//
// An agent id is connected while its Connect stream lives. Registering an id that is
// already connected replaces the old session (returned to the caller, which ends it with
// ABORTED). Unregister acts only if the entry still belongs to the given session, so a
// replaced stream ending late does not touch its successor; it keeps the agent as absent
// (its model, no session, no topics) so that messages addressed to it are queued for its
// next stream, as the delivery layer keeps its queue, until ReleaseAbsent forgets it.
//
// Agents registered on other brokers of a cluster (broker/jetstream_directory.h) are kept
// apart as remote agents: a message or topic publication can be addressed to them (their
// queues are shared), they are never senders here, and a local registration of the same
// id takes precedence while it is connected.
//
// Thread safety: safe for concurrent use (internal mutex, never held while calling out;
// the listener is called after the mutex is released).
#ifndef LATENTBUS_BROKER_AGENT_REGISTRY_H_
#define LATENTBUS_BROKER_AGENT_REGISTRY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "broker/session.h"
#include "latentbus/v1/model.pb.h"

namespace latentbus::broker {

struct AgentRecord {
  std::string agent_id;
  std::shared_ptr<const v1::ModelSpec> model;
  std::shared_ptr<AgentSession> session;  // null while the agent is absent
  absl::Time connected_since;
  std::vector<std::string> topics;  // filled by List() only
};

// An agent registered on another broker, as the cluster's directory describes it.
struct RemoteAgent {
  std::shared_ptr<const v1::ModelSpec> model;
  std::vector<std::string> topics;
  std::string broker;      // the broker that holds its stream
  bool connected = false;  // false: absent there (its messages are queued)
};

class AgentRegistry {
 public:
  // Called with an agent id after a local registration, unregistration, subscription
  // change or release of that id (the cluster's directory publishes it). Setting another
  // (or none) waits until calls of the previous one have returned.
  void SetListener(std::function<void(const std::string& agent_id)> listener);

  // The directory's view of agents on other brokers.
  void SetRemote(const std::string& agent_id, RemoteAgent agent);
  void ClearRemote(const std::string& agent_id);
  std::optional<RemoteAgent> FindRemote(const std::string& agent_id) const;

  // The local entry of `agent_id` (connected, or absent with session null), with its
  // topics; what the directory publishes.
  std::optional<AgentRecord> FindLocal(const std::string& agent_id) const;

  // Returns the session that was registered under `agent_id` before, if any.
  std::shared_ptr<AgentSession> Register(const std::string& agent_id,
                                         std::shared_ptr<const v1::ModelSpec> model,
                                         std::shared_ptr<AgentSession> session, absl::Time now);

  // True when the entry belonged to `session`: the agent is absent from `now` on (its
  // topics dropped, its model kept).
  bool Unregister(const std::string& agent_id, const AgentSession* session, absl::Time now);

  // Forgets the agents absent since before `cutoff`; returns how many.
  size_t ReleaseAbsent(absl::Time cutoff);

  // NOT_REGISTERED when `session` does not own `agent_id`; TOO_MANY_TOPICS when the
  // agent already has `max_topics` subscriptions. Subscribing twice is a no-op.
  absl::Status Subscribe(const std::string& agent_id, const AgentSession* session,
                         const std::string& topic, uint32_t max_topics);
  absl::Status Unsubscribe(const std::string& agent_id, const AgentSession* session,
                           const std::string& topic);

  // The connected agent `agent_id`.
  std::optional<AgentRecord> Find(const std::string& agent_id) const;
  // The agent `agent_id`, connected or absent (session null): where a message addressed
  // to it goes. A local connected agent first, then one on another broker, then a local
  // absent one.
  std::optional<AgentRecord> FindRecipient(const std::string& agent_id) const;
  // Subscribers of `topic` (local and on other brokers), sorted by agent id.
  std::vector<AgentRecord> Subscribers(const std::string& topic) const;
  // Every agent, connected or absent (session null), sorted by id, with its topics.
  std::vector<AgentRecord> List() const;
  // The model of the earliest registered agent (still registered) whose model has
  // `model_id` (for RouteQuery), or null. Registering an id again makes it the latest.
  std::shared_ptr<const v1::ModelSpec> FindModel(const std::string& model_id) const;
  // Connected agents.
  size_t size() const;

 private:
  struct Entry {
    std::shared_ptr<const v1::ModelSpec> model;
    std::shared_ptr<AgentSession> session;  // null: absent since `since`
    absl::Time since;                       // connected since, or absent since
    std::set<std::string> topics;
    uint64_t order = 0;  // registrations before this one (FindModel: the earliest wins)
  };
  AgentRecord ToRecord(const std::string& id, const Entry& e) const;
  void Changed(const std::string& agent_id) const;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> agents_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::set<std::string>> topics_ ABSL_GUARDED_BY(mu_);
  uint64_t registrations_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, RemoteAgent> remote_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::set<std::string>> remote_topics_ ABSL_GUARDED_BY(mu_);
  // Called holding this lock, so that SetListener(nullptr) waits for a call under way.
  mutable absl::Mutex listener_mu_;
  std::function<void(const std::string&)> listener_ ABSL_GUARDED_BY(listener_mu_);
};

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_AGENT_REGISTRY_H_
