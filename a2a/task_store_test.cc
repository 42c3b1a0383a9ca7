#include "a2a/task_store.h"

#include <thread>

#include "gtest/gtest.h"

namespace latentbus::a2a {
namespace {

Task MakeTask(const std::string& id, const std::string& target, bool topic = false,
              absl::Duration timeout = absl::Seconds(30), const std::string& principal = "p1") {
  Task t;
  t.id = id;
  t.principal = principal;
  t.context_id = "ctx";
  t.target = target;
  t.to_topic = topic;
  t.request_json = R"({"messageId":"m","role":"ROLE_USER","parts":[{"text":"hi"}]})";
  t.deadline = absl::Now() + timeout;
  t.expected_replies = topic ? 0 : 1;
  return t;
}

TEST(TaskStoreTest, AReplyFromTheAddresseeCompletesTheTask) {
  TaskStore store;
  ASSERT_TRUE(store.Create(MakeTask("t1", "alice")).ok());
  EXPECT_FALSE(store.AddReply("t1", {"r0", "mallory", "text", "not me"}));
  EXPECT_TRUE(store.AddReply("t1", {"r1", "alice", "latent", "done"}));
  absl::StatusOr<Task> t = store.Get("p1", "t1");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->state, TaskState::kCompleted);
  ASSERT_EQ(t->replies.size(), 1u);
  EXPECT_EQ(t->replies[0].text, "done");
  EXPECT_EQ(t->replies[0].form, "latent");
  // WORKING, the reply, COMPLETED.
  ASSERT_EQ(t->events.size(), 3u);
  EXPECT_EQ(t->events[1].kind, TaskEvent::Kind::kReply);
  EXPECT_FALSE(store.AddReply("t1", {"r2", "alice", "text", "again"}));
  EXPECT_EQ(store.working(), 0u);
}

TEST(TaskStoreTest, AnotherPrincipalFindsNothing) {
  TaskStore store;
  ASSERT_TRUE(store.Create(MakeTask("t1", "alice")).ok());
  EXPECT_EQ(store.Get("p2", "t1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store.Cancel("p2", "t1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store.Get("p1", "t1")->state, TaskState::kWorking);
}

TEST(TaskStoreTest, AnAgentTaskFailsAtItsDeadline) {
  TaskStore store;
  ASSERT_TRUE(store.Create(MakeTask("t1", "alice", false, absl::Milliseconds(50))).ok());
  absl::StatusOr<Task> t = store.WaitForEvents("p1", "t1", 1, absl::Now() + absl::Seconds(5));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->state, TaskState::kFailed);
  EXPECT_NE(t->status_text.find("no reply from alice"), std::string::npos) << t->status_text;
  EXPECT_FALSE(store.AddReply("t1", {"late", "alice", "text", "late"}));
}

TEST(TaskStoreTest, ATopicTaskEndsWhenEveryRecipientRepliedOrAtTheDeadline) {
  TaskStore store;
  ASSERT_TRUE(store.Create(MakeTask("t1", "news", true)).ok());
  // A reply may come before the broker's SendResult says how many to expect.
  EXPECT_TRUE(store.AddReply("t1", {"r1", "a", "text", "one"}));
  EXPECT_EQ(store.Get("p1", "t1")->state, TaskState::kWorking);
  store.SetExpectedReplies("t1", 2);
  EXPECT_TRUE(store.AddReply("t1", {"r2", "b", "text", "two"}));
  EXPECT_EQ(store.Get("p1", "t1")->state, TaskState::kCompleted);

  ASSERT_TRUE(store.Create(MakeTask("t2", "news", true, absl::Milliseconds(50))).ok());
  store.SetExpectedReplies("t2", 3);
  EXPECT_TRUE(store.AddReply("t2", {"r3", "a", "text", "one"}));
  absl::SleepFor(absl::Milliseconds(80));
  absl::StatusOr<Task> t2 = store.Get("p1", "t2");
  EXPECT_EQ(t2->state, TaskState::kCompleted);
  EXPECT_EQ(t2->replies.size(), 1u);

  ASSERT_TRUE(store.Create(MakeTask("t3", "empty", true)).ok());
  store.SetExpectedReplies("t3", 0);
  EXPECT_EQ(store.Get("p1", "t3")->state, TaskState::kFailed);
}

TEST(TaskStoreTest, TheBrokersLateErrorsEndTasksAsTheyShould) {
  TaskStore store;
  // A topic with one reply of two: the broker's deadline error completes it, as the
  // deadline would; some subscribers' full queues leave it to the others.
  ASSERT_TRUE(store.Create(MakeTask("topic", "news", true)).ok());
  store.SetExpectedReplies("topic", 2);
  store.OnBusError("topic", false, true, "QUEUE_FULL for sub-3");
  EXPECT_EQ(store.Get("p1", "topic")->state, TaskState::kWorking);
  EXPECT_TRUE(store.AddReply("topic", {"r1", "sub-1", "text", "one"}));
  store.OnBusError("topic", true, false, "no reply before the deadline");
  EXPECT_EQ(store.Get("p1", "topic")->state, TaskState::kCompleted);
  // An agent task fails on either.
  ASSERT_TRUE(store.Create(MakeTask("a1", "alice")).ok());
  store.OnBusError("a1", false, true, "QUEUE_FULL for alice");
  absl::StatusOr<Task> a1 = store.Get("p1", "a1");
  EXPECT_EQ(a1->state, TaskState::kFailed);
  EXPECT_EQ(a1->status_text, "QUEUE_FULL for alice");
  ASSERT_TRUE(store.Create(MakeTask("a2", "alice")).ok());
  store.OnBusError("a2", true, false, "no reply before the deadline");
  EXPECT_NE(store.Get("p1", "a2")->status_text.find("no reply from alice"), std::string::npos);
}

TEST(TaskStoreTest, CancelEndsAWorkingTaskOnly) {
  TaskStore store;
  ASSERT_TRUE(store.Create(MakeTask("t1", "alice")).ok());
  absl::StatusOr<Task> canceled = store.Cancel("p1", "t1");
  ASSERT_TRUE(canceled.ok());
  EXPECT_EQ(canceled->state, TaskState::kCanceled);
  EXPECT_FALSE(store.AddReply("t1", {"r", "alice", "text", "too late"}));
  EXPECT_EQ(store.Cancel("p1", "t1").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store.Create(MakeTask("t1", "alice")).code(), absl::StatusCode::kAlreadyExists);
}

TEST(TaskStoreTest, BoundsForgetFinishedTasksFirstThenRefuse) {
  TaskStore store({/*max_tasks=*/2, /*max_bytes=*/size_t{1} << 20, absl::Minutes(10)});
  ASSERT_TRUE(store.Create(MakeTask("t1", "alice")).ok());
  ASSERT_TRUE(store.Create(MakeTask("t2", "alice")).ok());
  EXPECT_EQ(store.Create(MakeTask("t3", "alice")).code(), absl::StatusCode::kResourceExhausted);
  store.Fail("t1", "gone");
  ASSERT_TRUE(store.Create(MakeTask("t3", "alice")).ok());  // t1 forgotten
  EXPECT_EQ(store.Get("p1", "t1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store.size(), 2u);

  TaskStore small({/*max_tasks=*/100, /*max_bytes=*/2048, absl::Minutes(10)});
  ASSERT_TRUE(small.Create(MakeTask("t1", "alice")).ok());
  EXPECT_FALSE(small.AddReply("t1", {"r", "alice", "text", std::string(4096, 'x')}));
  EXPECT_EQ(small.Get("p1", "t1")->state, TaskState::kFailed);
}

TEST(TaskStoreTest, AWaiterWakesOnAReply) {
  TaskStore store;
  ASSERT_TRUE(store.Create(MakeTask("t1", "alice")).ok());
  std::thread replier([&] {
    absl::SleepFor(absl::Milliseconds(50));
    store.AddReply("t1", {"r1", "alice", "text", "hello"});
  });
  const absl::Time start = absl::Now();
  absl::StatusOr<Task> t = store.WaitForEvents("p1", "t1", 1, absl::Now() + absl::Seconds(20));
  replier.join();
  ASSERT_TRUE(t.ok());
  EXPECT_GT(t->events.size(), 1u);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));  // woken, not timed out
}

}  // namespace
}  // namespace latentbus::a2a
