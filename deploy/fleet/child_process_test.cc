#include "deploy/fleet/child_process.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <string>

#include "absl/time/clock.h"

namespace latentbus::fleet {
namespace {

// Reads the child's merged output until EOF.
std::string Output(ChildProcess& child) {
  std::string out;
  char buffer[256];
  while (child.output_fd() >= 0) {
    pollfd fd = {child.output_fd(), POLLIN, 0};
    poll(&fd, 1, 5000);
    const ssize_t n = read(child.output_fd(), buffer, sizeof(buffer));
    if (n > 0) {
      out.append(buffer, n);
    } else if (n == 0) {
      child.CloseOutput();
    }
  }
  return out;
}

ExitStatus Wait(ChildProcess& child) {
  for (int i = 0; i < 500; ++i) {
    if (std::optional<ExitStatus> s = child.Poll()) return *s;
    absl::SleepFor(absl::Milliseconds(10));
  }
  ADD_FAILURE() << "child did not exit";
  return {};
}

TEST(ChildProcessTest, MergesOutputAndReportsTheExitCode) {
  auto child = ChildProcess::Spawn("/bin/sh", {"-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_EQ(Output(**child), "out\nerr\n");
  ExitStatus status = Wait(**child);
  EXPECT_FALSE(status.signaled);
  EXPECT_EQ(status.code, 3);
  EXPECT_EQ(status.ToString(), "exited with status 3");
  EXPECT_FALSE((*child)->Signal(SIGTERM));  // reaped: nothing to signal
}

// The child runs in its own process group with signals unblocked even when the parent
// blocks them, so SIGTERM (sent by the launcher) reaches it and kills it.
TEST(ChildProcessTest, OwnGroupDefaultSignalsAndTermination) {
  sigset_t term, old;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, &old);
  auto child = ChildProcess::Spawn("/bin/sleep", {"30"});
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ASSERT_TRUE(child.ok()) << child.status();
  const pid_t pid = (*child)->pid();
  EXPECT_EQ(getpgid(pid), pid);
  ASSERT_TRUE((*child)->Signal(SIGTERM));
  ExitStatus status = Wait(**child);
  EXPECT_TRUE(status.signaled);
  EXPECT_EQ(status.code, SIGTERM);
  EXPECT_EQ(status.ToString(), "killed by SIGTERM");
}

TEST(ChildProcessTest, ReportsAProgramThatCannotRun) {
  auto child = ChildProcess::Spawn("/nonexistent/latentbus", {"broker"});
  ASSERT_FALSE(child.ok());
  EXPECT_NE(child.status().message().find("cannot execute /nonexistent/latentbus"),
            absl::string_view::npos);
}

TEST(ChildProcessTest, DestructorKillsARunningChild) {
  pid_t pid = 0;
  {
    auto child = ChildProcess::Spawn("/bin/sleep", {"30"});
    ASSERT_TRUE(child.ok());
    pid = (*child)->pid();
  }
  EXPECT_NE(kill(pid, 0), 0);  // killed and reaped: no such process
}

}  // namespace
}  // namespace latentbus::fleet
