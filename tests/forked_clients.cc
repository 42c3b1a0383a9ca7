#include "tests/forked_clients.h"

#include <unistd.h>

namespace latentbus::testing {

ForkedClients ForkClients(void (*body)(int from_parent, int to_parent)) {
  int to_child[2], to_parent[2];
  if (pipe(to_child) != 0) return {};
  if (pipe(to_parent) != 0) return {};
  const pid_t pid = fork();
  if (pid < 0) return {};
  if (pid == 0) {
    close(to_child[1]);
    close(to_parent[0]);
    body(to_child[0], to_parent[1]);
    _exit(9);  // the body must not return
  }
  close(to_child[0]);
  close(to_parent[1]);
  return ForkedClients{pid, to_child[1], to_parent[0]};
}

}  // namespace latentbus::testing
