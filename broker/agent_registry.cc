#include "broker/agent_registry.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "broker/errors.h"

namespace latentbus::broker {

std::shared_ptr<AgentSession> AgentRegistry::Register(const std::string& agent_id,
                                                      std::shared_ptr<const v1::ModelSpec> model,
                                                      std::shared_ptr<AgentSession> session,
                                                      absl::Time now) {
  absl::MutexLock lock(&mu_);
  Entry& e = agents_[agent_id];
  std::shared_ptr<AgentSession> old = std::move(e.session);
  for (const std::string& topic : e.topics) {
    auto it = topics_.find(topic);
    if (it != topics_.end()) {
      it->second.erase(agent_id);
      if (it->second.empty()) topics_.erase(it);
    }
  }
  e = Entry{std::move(model), std::move(session), now, {}, registrations_++};
  return old;
}

bool AgentRegistry::Unregister(const std::string& agent_id, const AgentSession* session,
                               absl::Time now) {
  absl::MutexLock lock(&mu_);
  auto it = agents_.find(agent_id);
  if (it == agents_.end() || it->second.session == nullptr || it->second.session.get() != session) {
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
  return true;
}

size_t AgentRegistry::ReleaseAbsent(absl::Time cutoff) {
  absl::MutexLock lock(&mu_);
  size_t released = 0;
  for (auto it = agents_.begin(); it != agents_.end();) {
    if (it->second.session == nullptr && it->second.since < cutoff) {
      agents_.erase(it++);
      ++released;
    } else {
      ++it;
    }
  }
  return released;
}

absl::Status AgentRegistry::Subscribe(const std::string& agent_id, const AgentSession* session,
                                      const std::string& topic, uint32_t max_topics) {
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
  return absl::OkStatus();
}

absl::Status AgentRegistry::Unsubscribe(const std::string& agent_id, const AgentSession* session,
                                        const std::string& topic) {
  absl::MutexLock lock(&mu_);
  auto it = agents_.find(agent_id);
  if (it == agents_.end() || it->second.session.get() != session) {
    return BrokerError(v1::NOT_REGISTERED, absl::StrCat(agent_id, " is not registered"));
  }
  it->second.topics.erase(topic);
  auto t = topics_.find(topic);
  if (t != topics_.end()) {
    t->second.erase(agent_id);
    if (t->second.empty()) topics_.erase(t);
  }
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
  if (it == agents_.end()) return std::nullopt;
  return ToRecord(it->first, it->second);
}

std::vector<AgentRecord> AgentRegistry::Subscribers(const std::string& topic) const {
  std::vector<AgentRecord> out;
  absl::MutexLock lock(&mu_);
  auto t = topics_.find(topic);
  if (t == topics_.end()) return out;
  for (const std::string& id : t->second) {  // std::set: sorted
    auto it = agents_.find(id);
    if (it != agents_.end()) out.push_back(ToRecord(id, it->second));
  }
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
