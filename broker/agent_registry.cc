#include "broker/agent_registry.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "broker/errors.h"

namespace latentbus::broker {

void AgentRegistry::SetListener(std::function<void(const std::string&)> listener) {
  absl::MutexLock lock(&listener_mu_);
  listener_ = std::move(listener);
}

void AgentRegistry::Changed(const std::string& agent_id) const {
  absl::MutexLock lock(&listener_mu_);
  if (listener_) listener_(agent_id);
}

void AgentRegistry::SetRemote(const std::string& agent_id, RemoteAgent agent) {
  absl::MutexLock lock(&mu_);
  if (auto old = remote_.find(agent_id); old != remote_.end()) {
    for (const std::string& topic : old->second.topics) {
      auto t = remote_topics_.find(topic);
      if (t == remote_topics_.end()) continue;
      t->second.erase(agent_id);
      if (t->second.empty()) remote_topics_.erase(t);
    }
  }
  if (agent.connected) {
    for (const std::string& topic : agent.topics) remote_topics_[topic].insert(agent_id);
  }
  remote_[agent_id] = std::move(agent);
}

void AgentRegistry::ClearRemote(const std::string& agent_id) {
  absl::MutexLock lock(&mu_);
  auto old = remote_.find(agent_id);
  if (old == remote_.end()) return;
  for (const std::string& topic : old->second.topics) {
    auto t = remote_topics_.find(topic);
    if (t == remote_topics_.end()) continue;
    t->second.erase(agent_id);
    if (t->second.empty()) remote_topics_.erase(t);
  }
  remote_.erase(old);
}

std::optional<RemoteAgent> AgentRegistry::FindRemote(const std::string& agent_id) const {
  absl::MutexLock lock(&mu_);
  auto it = remote_.find(agent_id);
  if (it == remote_.end()) return std::nullopt;
  return it->second;
}

std::optional<AgentRecord> AgentRegistry::FindLocal(const std::string& agent_id) const {
  absl::MutexLock lock(&mu_);
  auto it = agents_.find(agent_id);
  if (it == agents_.end()) return std::nullopt;
  AgentRecord r = ToRecord(it->first, it->second);
  r.topics.assign(it->second.topics.begin(), it->second.topics.end());
  return r;
}

std::shared_ptr<AgentSession> AgentRegistry::Register(const std::string& agent_id,
                                                      std::shared_ptr<const v1::ModelSpec> model,
                                                      std::shared_ptr<AgentSession> session,
                                                      absl::Time now) {
  std::shared_ptr<AgentSession> old;
  {
    absl::MutexLock lock(&mu_);
    Entry& e = agents_[agent_id];
    old = std::move(e.session);
    for (const std::string& topic : e.topics) {
      auto it = topics_.find(topic);
      if (it != topics_.end()) {
        it->second.erase(agent_id);
        if (it->second.empty()) topics_.erase(it);
      }
    }
    e = Entry{std::move(model), std::move(session), now, {}, registrations_++};
  }
  Changed(agent_id);
  return old;
}

bool AgentRegistry::Unregister(const std::string& agent_id, const AgentSession* session,
                               absl::Time now) {
  {
    absl::MutexLock lock(&mu_);
    auto it = agents_.find(agent_id);
    if (it == agents_.end() || it->second.session == nullptr ||
        it->second.session.get() != session) {
      return false;
    }
    Entry& e = it->second;
    for (const std::string& topic : e.topics) {
      auto t = topics_.find(topic);
      if (t != topics_.end()) {
        t->second.erase(agent_id);
        if (t->second.empty()) topics_.erase(t);
      }
    }
    e.topics.clear();
    e.session.reset();
    e.since = now;
  }
  Changed(agent_id);
  return true;
}

size_t AgentRegistry::ReleaseAbsent(absl::Time cutoff) {
  std::vector<std::string> released;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = agents_.begin(); it != agents_.end();) {
      if (it->second.session == nullptr && it->second.since < cutoff) {
        released.push_back(it->first);
        agents_.erase(it++);
      } else {
        ++it;
      }
    }
  }
  for (const std::string& id : released) Changed(id);
  return released.size();
}

absl::Status AgentRegistry::Subscribe(const std::string& agent_id, const AgentSession* session,
                                      const std::string& topic, uint32_t max_topics) {
  {
    absl::MutexLock lock(&mu_);
    auto it = agents_.find(agent_id);
    if (it == agents_.end() || it->second.session.get() != session) {
      return BrokerError(v1::NOT_REGISTERED, absl::StrCat(agent_id, " is not registered"));
    }
    Entry& e = it->second;
    if (e.topics.count(topic) != 0) return absl::OkStatus();
    if (e.topics.size() >= max_topics) {
      return BrokerError(v1::TOO_MANY_TOPICS,
                         absl::StrCat(agent_id, " already has ", e.topics.size(),
                                      " subscriptions; the limit is ", max_topics));
    }
    e.topics.insert(topic);
    topics_[topic].insert(agent_id);
  }
  Changed(agent_id);
  return absl::OkStatus();
}

absl::Status AgentRegistry::Unsubscribe(const std::string& agent_id, const AgentSession* session,
                                        const std::string& topic) {
  bool had = false;
  {
    absl::MutexLock lock(&mu_);
    auto it = agents_.find(agent_id);
    if (it == agents_.end() || it->second.session.get() != session) {
      return BrokerError(v1::NOT_REGISTERED, absl::StrCat(agent_id, " is not registered"));
    }
    had = it->second.topics.erase(topic) > 0;
    auto t = topics_.find(topic);
    if (t != topics_.end()) {
      t->second.erase(agent_id);
      if (t->second.empty()) topics_.erase(t);
    }
  }
  if (had) Changed(agent_id);
  return absl::OkStatus();
}

AgentRecord AgentRegistry::ToRecord(const std::string& id, const Entry& e) const {
  return AgentRecord{id, e.model, e.session, e.since, {}};
}

std::optional<AgentRecord> AgentRegistry::Find(const std::string& agent_id) const {
  absl::MutexLock lock(&mu_);
  auto it = agents_.find(agent_id);
  if (it == agents_.end() || it->second.session == nullptr) return std::nullopt;
  return ToRecord(it->first, it->second);
}

std::optional<AgentRecord> AgentRegistry::FindRecipient(const std::string& agent_id) const {
  absl::MutexLock lock(&mu_);
  auto it = agents_.find(agent_id);
  if (it != agents_.end() && it->second.session != nullptr) return ToRecord(it->first, it->second);
  if (auto r = remote_.find(agent_id); r != remote_.end()) {
    return AgentRecord{agent_id, r->second.model, nullptr, absl::InfinitePast(), {}};
  }
  if (it == agents_.end()) return std::nullopt;
  return ToRecord(it->first, it->second);
}

std::vector<AgentRecord> AgentRegistry::Subscribers(const std::string& topic) const {
  std::vector<AgentRecord> out;
  absl::MutexLock lock(&mu_);
  if (auto t = topics_.find(topic); t != topics_.end()) {
    for (const std::string& id : t->second) {  // std::set: sorted
      auto it = agents_.find(id);
      if (it != agents_.end()) out.push_back(ToRecord(id, it->second));
    }
  }
  const size_t local = out.size();
  if (auto t = remote_topics_.find(topic); t != remote_topics_.end()) {
    for (const std::string& id : t->second) {
      auto here = agents_.find(id);
      if (here != agents_.end() && here->second.session != nullptr) continue;  // connected here
      auto r = remote_.find(id);
      if (r != remote_.end()) {
        out.push_back(AgentRecord{id, r->second.model, nullptr, absl::InfinitePast(), {}});
      }
    }
  }
  // Two sorted runs (local, remote); without remote subscribers nothing to do.
  std::inplace_merge(
      out.begin(), out.begin() + static_cast<std::ptrdiff_t>(local), out.end(),
      [](const AgentRecord& a, const AgentRecord& b) { return a.agent_id < b.agent_id; });
  return out;
}

std::vector<AgentRecord> AgentRegistry::List() const {
  std::vector<AgentRecord> out;
  {
    absl::MutexLock lock(&mu_);
    out.reserve(agents_.size());
    for (const auto& [id, e] : agents_) {
      AgentRecord r = ToRecord(id, e);
      r.topics.assign(e.topics.begin(), e.topics.end());
      out.push_back(std::move(r));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const AgentRecord& a, const AgentRecord& b) { return a.agent_id < b.agent_id; });
  return out;
}

std::shared_ptr<const v1::ModelSpec> AgentRegistry::FindModel(const std::string& model_id) const {
  absl::MutexLock lock(&mu_);
  const Entry* first = nullptr;
  for (const auto& [id, e] : agents_) {
    if (e.session != nullptr && e.model->model_id() == model_id &&
        (first == nullptr || e.order < first->order)) {
      first = &e;
    }
  }
  return first != nullptr ? first->model : nullptr;
}

size_t AgentRegistry::size() const {
  absl::MutexLock lock(&mu_);
  size_t connected = 0;
  for (const auto& [id, e] : agents_) connected += e.session != nullptr ? 1 : 0;
  return connected;
}

}  // namespace latentbus::broker
