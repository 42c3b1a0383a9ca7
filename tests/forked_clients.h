// Clients in a forked child process, for tests that measure the broker's own resident
// memory (the broker runs in the test process; /proc/self/status must count it alone).
// Fork before anything starts gRPC in the test process: a child inherits no gRPC state
// then, and a binary holds one such test.
//
// Thread safety: call from the test's main thread, before any other thread starts.
#ifndef LATENTBUS_TESTS_FORKED_CLIENTS_H_
#define LATENTBUS_TESTS_FORKED_CLIENTS_H_

#include <sys/types.h>

namespace latentbus::testing {

struct ForkedClients {
  pid_t pid = -1;
  int to_child = -1;    // the parent writes here (the broker's port, then go-aheads)
  int from_child = -1;  // the parent reads here (the child's reports)
};

// Forks; the child runs `body(from_parent, to_parent)`, which must not return (it ends
// with _exit). pid -1 when the fork or a pipe failed.
ForkedClients ForkClients(void (*body)(int from_parent, int to_parent));

}  // namespace latentbus::testing

#endif  // LATENTBUS_TESTS_FORKED_CLIENTS_H_
