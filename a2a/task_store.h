// The gateway's A2A tasks: one task per message sent over the bus with a request for
// replies, and the replies that answer it.
//
// A task is created WORKING before its message is sent (so a fast reply always finds it),
// collects replies by the bus message id they answer (the reply's correlation id), and
// ends:
// - COMPLETED when the expected number of replies came (1 for an agent; for a topic, the
//   recipients the broker reported), or, for a topic, at the deadline with some replies;
// - FAILED at the deadline without the replies (for an agent), when the send is refused,
//   or when the broker reports the message undeliverable;
// - CANCELED by CancelTask (replies arriving later are dropped).
// Deadlines are applied when a task is read or waited on; no timer thread is needed.
//
// Every task belongs to the principal (the caller's token) that created it: reads by
// another principal find nothing, as if the task did not exist.
//
// Memory is bounded in tasks and in bytes (the retained message and reply texts): a Create
// that would pass either bound first forgets finished tasks, oldest first, then refuses
// (RESOURCE_EXHAUSTED). Finished tasks are also forgotten `retention` after they end.
//
// Thread safety: every method may be called from any thread.
#ifndef LATENTBUS_A2A_TASK_STORE_H_
#define LATENTBUS_A2A_TASK_STORE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace latentbus::a2a {

// The A2A task states the gateway uses (names as the protocol's TaskState enum).
enum class TaskState { kWorking, kCompleted, kFailed, kCanceled };
const char* TaskStateName(TaskState state);  // "TASK_STATE_WORKING", ...
bool IsTerminal(TaskState state);

// One reply that answered the task's message.
struct Reply {
  std::string message_id;  // the reply's bus message id
  std::string sender;      // the agent that replied
  std::string form;        // "latent" or "text": how the request reached that agent
  std::string text;
};

// What a stream reader is told, in order: a status change, or a reply (an artifact).
struct TaskEvent {
  enum class Kind { kStatus, kReply } kind = Kind::kStatus;
  size_t reply_index = 0;  // kReply: index into Task::replies
};

struct Task {
  std::string id;  // = the bus message id of the request
  std::string principal;
  std::string context_id;
  std::string target;  // agent id, or topic name
  bool to_topic = false;
  std::string request_json;  // the caller's A2A message, as received (history)
  TaskState state = TaskState::kWorking;
  std::string status_text;  // why it ended, for FAILED / CANCELED / a topic's end
  absl::Time updated_at;
  absl::Time deadline;
  // Replies that end the task; 0 = not known yet (a topic before its SendResult).
  uint32_t expected_replies = 1;
  std::vector<Reply> replies;
  std::vector<TaskEvent> events;  // everything a stream reader has to replay
};

struct TaskStoreOptions {
  size_t max_tasks = 4096;
  size_t max_bytes = size_t{64} << 20;
  absl::Duration retention = absl::Minutes(10);
};

class TaskStore {
 public:
  explicit TaskStore(TaskStoreOptions options = {});

  // Adds a WORKING task (its first event is that status). ALREADY_EXISTS for a known id,
  // RESOURCE_EXHAUSTED when the bounds are reached by unfinished tasks.
  absl::Status Create(Task task);

  // The broker accepted the message: `expected` replies end the task (a topic's
  // recipients). 0 recipients ends a topic task FAILED ("no subscriber").
  void SetExpectedReplies(const std::string& id, uint32_t expected);

  // A reply to task `id` (the reply's correlation id). Counted only while the task works
  // and, for an agent task, only from that agent; false when it was not counted.
  bool AddReply(const std::string& id, Reply reply);

  // Ends a working task FAILED with `why`; no-op for a finished one.
  void Fail(const std::string& id, const std::string& why);

  // The broker's late error about the task's message. `deadline` (DEADLINE_EXCEEDED) ends
  // the task as its deadline does (a topic task with replies completes). An error that
  // names recipients (QUEUE_FULL for some of a topic's subscribers) fails an agent task and
  // leaves a topic task to the other recipients: the broker's SendResult never counted
  // those. Anything else fails the task with `why`.
  void OnBusError(const std::string& id, bool deadline, bool names_recipients,
                  const std::string& why);

  // CancelTask: NOT_FOUND for an unknown task (or another principal's),
  // FAILED_PRECONDITION when it has already ended; else the canceled task.
  absl::StatusOr<Task> Cancel(const std::string& principal, const std::string& id);

  // A copy of the task (deadline applied), or NOT_FOUND.
  absl::StatusOr<Task> Get(const std::string& principal, const std::string& id);

  // Waits until the task has more than `seen_events` events, it ends, or `until`; returns
  // the task then (deadline applied) or NOT_FOUND.
  absl::StatusOr<Task> WaitForEvents(const std::string& principal, const std::string& id,
                                     size_t seen_events, absl::Time until);

  // Tasks held now, and unfinished ones among them (for metrics and tests).
  size_t size() const;
  size_t working() const;

 private:
  struct Entry {
    Task task;
    size_t bytes = 0;
  };
  static size_t BytesOf(const Task& task);
  void End(Entry& e, TaskState state, std::string why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ApplyDeadline(Entry& e, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EndAtDeadline(Entry& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Forget(absl::Time now, size_t need_bytes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Entry* Find(const std::string& principal, const std::string& id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const TaskStoreOptions options_;
  mutable absl::Mutex mu_;
  uint64_t changes_ ABSL_GUARDED_BY(mu_) = 0;  // one more on every event (waiters await it)
  absl::flat_hash_map<std::string, Entry> tasks_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> order_ ABSL_GUARDED_BY(mu_);  // creation order (ids may be gone)
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  size_t working_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time last_sweep_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace latentbus::a2a

#endif  // LATENTBUS_A2A_TASK_STORE_H_
