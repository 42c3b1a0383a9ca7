#include "a2a/task_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace latentbus::a2a {

const char* TaskStateName(TaskState state) {
  switch (state) {
    case TaskState::kWorking:
      return "TASK_STATE_WORKING";
    case TaskState::kCompleted:
      return "TASK_STATE_COMPLETED";
    case TaskState::kFailed:
      return "TASK_STATE_FAILED";
    case TaskState::kCanceled:
      return "TASK_STATE_CANCELED";
  }
  return "TASK_STATE_UNSPECIFIED";
}

bool IsTerminal(TaskState state) { return state != TaskState::kWorking; }

TaskStore::TaskStore(TaskStoreOptions options) : options_(options) {}

size_t TaskStore::BytesOf(const Task& task) {
  size_t n = sizeof(Task) + task.id.size() + task.principal.size() + task.context_id.size() +
             task.target.size() + task.request_json.size() + task.status_text.size() +
             task.events.capacity() * sizeof(TaskEvent);
  for (const Reply& r : task.replies) {
    n += sizeof(Reply) + r.message_id.size() + r.sender.size() + r.form.size() + r.text.size();
  }
  return n;
}

TaskStore::Entry* TaskStore::Find(const std::string& principal, const std::string& id) {
  auto it = tasks_.find(id);
  if (it == tasks_.end() || it->second.task.principal != principal) return nullptr;
  return &it->second;
}

void TaskStore::End(Entry& e, TaskState state, std::string why) {
  if (IsTerminal(e.task.state)) return;
  e.task.state = state;
  e.task.status_text = std::move(why);
  e.task.updated_at = absl::Now();
  e.task.events.push_back({TaskEvent::Kind::kStatus, 0});
  --working_;
  ++changes_;
  const size_t bytes = BytesOf(e.task);
  bytes_ = bytes_ - e.bytes + bytes;
  e.bytes = bytes;
}

void TaskStore::ApplyDeadline(Entry& e, absl::Time now) {
  if (IsTerminal(e.task.state) || now < e.task.deadline) return;
  EndAtDeadline(e);
}

void TaskStore::EndAtDeadline(Entry& e) {
  if (e.task.to_topic && !e.task.replies.empty()) {
    End(e, TaskState::kCompleted,
        absl::StrCat(e.task.replies.size(), " subscriber(s) replied before the deadline"));
  } else {
    End(e, TaskState::kFailed,
        absl::StrCat("no reply from ", e.task.to_topic ? "any subscriber of " : "", e.task.target,
                     " before the deadline"));
  }
}

void TaskStore::Forget(absl::Time now, size_t need_bytes) {
  // Oldest first: expired finished tasks always; more finished tasks while a bound is hit.
  // Retention alone is looked after at most once a second: not a scan of every task per
  // message.
  const bool bound_hit =
      tasks_.size() >= options_.max_tasks || bytes_ + need_bytes > options_.max_bytes;
  if (!bound_hit && now - last_sweep_ < absl::Seconds(1)) return;
  last_sweep_ = now;
  for (auto it = order_.begin(); it != order_.end();) {
    auto t = tasks_.find(*it);
    if (t == tasks_.end()) {
      it = order_.erase(it);
      continue;
    }
    Entry& e = t->second;
    ApplyDeadline(e, now);
    const bool over =
        tasks_.size() >= options_.max_tasks || bytes_ + need_bytes > options_.max_bytes;
    if (IsTerminal(e.task.state) && (over || now - e.task.updated_at >= options_.retention)) {
      bytes_ -= e.bytes;
      tasks_.erase(t);
      it = order_.erase(it);
      continue;
    }
    ++it;
  }
}

absl::Status TaskStore::Create(Task task) {
  const absl::Time now = absl::Now();
  task.state = TaskState::kWorking;
  task.updated_at = now;
  task.events.assign(1, {TaskEvent::Kind::kStatus, 0});
  const size_t bytes = BytesOf(task);
  absl::MutexLock lock(&mu_);
  if (tasks_.contains(task.id)) {
    return absl::AlreadyExistsError(absl::StrCat("task ", task.id, " exists"));
  }
  Forget(now, bytes);
  if (tasks_.size() >= options_.max_tasks || bytes_ + bytes > options_.max_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat("the gateway holds ", tasks_.size(),
                                                     " unfinished tasks (", bytes_,
                                                     " bytes); try again when some have ended"));
  }
  order_.push_back(task.id);
  std::string id = task.id;
  tasks_.emplace(std::move(id), Entry{std::move(task), bytes});
  bytes_ += bytes;
  ++working_;
  return absl::OkStatus();
}

void TaskStore::SetExpectedReplies(const std::string& id, uint32_t expected) {
  absl::MutexLock lock(&mu_);
  auto it = tasks_.find(id);
  if (it == tasks_.end() || IsTerminal(it->second.task.state)) return;
  Entry& e = it->second;
  e.task.expected_replies = expected;
  if (expected == 0) {
    End(e, TaskState::kFailed, absl::StrCat("no agent subscribes to topic ", e.task.target));
  } else if (e.task.replies.size() >= expected) {
    End(e, TaskState::kCompleted, "");
  }
}

bool TaskStore::AddReply(const std::string& id, Reply reply) {
  absl::MutexLock lock(&mu_);
  auto it = tasks_.find(id);
  if (it == tasks_.end()) return false;
  Entry& e = it->second;
  ApplyDeadline(e, absl::Now());
  if (IsTerminal(e.task.state)) return false;
  if (!e.task.to_topic && reply.sender != e.task.target) return false;
  const size_t added = sizeof(Reply) + reply.message_id.size() + reply.sender.size() +
                       reply.form.size() + reply.text.size() + sizeof(TaskEvent);
  if (bytes_ + added > options_.max_bytes) {
    End(e, TaskState::kFailed, "the replies exceed the gateway's memory bound");
    return false;
  }
  e.task.replies.push_back(std::move(reply));
  e.task.events.push_back({TaskEvent::Kind::kReply, e.task.replies.size() - 1});
  e.task.updated_at = absl::Now();
  bytes_ += added;
  e.bytes += added;
  ++changes_;
  if (e.task.expected_replies != 0 && e.task.replies.size() >= e.task.expected_replies) {
    End(e, TaskState::kCompleted, "");
  }
  return true;
}

void TaskStore::Fail(const std::string& id, const std::string& why) {
  absl::MutexLock lock(&mu_);
  auto it = tasks_.find(id);
  if (it != tasks_.end()) End(it->second, TaskState::kFailed, why);
}

void TaskStore::OnBusError(const std::string& id, bool deadline, bool names_recipients,
                           const std::string& why) {
  absl::MutexLock lock(&mu_);
  auto it = tasks_.find(id);
  if (it == tasks_.end() || IsTerminal(it->second.task.state)) return;
  Entry& e = it->second;
  if (deadline) return EndAtDeadline(e);
  if (e.task.to_topic && names_recipients) return;
  End(e, TaskState::kFailed, why);
}

absl::StatusOr<Task> TaskStore::Cancel(const std::string& principal, const std::string& id) {
  absl::MutexLock lock(&mu_);
  Entry* e = Find(principal, id);
  if (e == nullptr) return absl::NotFoundError(absl::StrCat("no task ", id));
  ApplyDeadline(*e, absl::Now());
  if (IsTerminal(e->task.state)) {
    return absl::FailedPreconditionError(
        absl::StrCat("task ", id, " has already ended (", TaskStateName(e->task.state), ")"));
  }
  End(*e, TaskState::kCanceled, "canceled by the caller; later replies are dropped");
  return e->task;
}

absl::StatusOr<Task> TaskStore::Get(const std::string& principal, const std::string& id) {
  absl::MutexLock lock(&mu_);
  Entry* e = Find(principal, id);
  if (e == nullptr) return absl::NotFoundError(absl::StrCat("no task ", id));
  ApplyDeadline(*e, absl::Now());
  return e->task;
}

absl::StatusOr<Task> TaskStore::WaitForEvents(const std::string& principal, const std::string& id,
                                              size_t seen_events, absl::Time until) {
  absl::MutexLock lock(&mu_);
  while (true) {
    Entry* e = Find(principal, id);
    if (e == nullptr) return absl::NotFoundError(absl::StrCat("no task ", id));
    const absl::Time now = absl::Now();
    ApplyDeadline(*e, now);
    if (e->task.events.size() > seen_events || IsTerminal(e->task.state) || now >= until) {
      return e->task;
    }
    // Wakes on any change (the loop re-checks) or at the earlier of the two times.
    const uint64_t seen_changes = changes_;
    const auto changed = [this, seen_changes]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return changes_ != seen_changes;
    };
    mu_.AwaitWithDeadline(absl::Condition(&changed), std::min(until, e->task.deadline));
  }
}

size_t TaskStore::size() const {
  absl::MutexLock lock(&mu_);
  return tasks_.size();
}

size_t TaskStore::working() const {
  absl::MutexLock lock(&mu_);
  return working_;
}

}  // namespace latentbus::a2a
