#include "cli/stop_signals.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <utility>

namespace latentbus::cli {
namespace {

int g_write_fd = -1;  // the pipe the handler writes to (set before the handler is installed)

extern "C" void OnStopSignal(int signo) {
  const int saved = errno;
  const unsigned char byte = static_cast<unsigned char>(signo);
  if (g_write_fd >= 0) (void)!write(g_write_fd, &byte, 1);
  errno = saved;
}

constexpr unsigned char kQuit = 0;  // written by the destructor: the receiver returns

sigset_t StopSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

StopSignals::StopSignals(std::function<void(int)> on_repeat) : on_repeat_(std::move(on_repeat)) {
  const sigset_t set = StopSet();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  if (pipe2(pipe_, O_CLOEXEC) != 0) std::abort();  // no descriptors left at start: nothing works
  g_write_fd = pipe_[1];
  struct sigaction action = {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  receiver_ = std::thread([this] {
    const sigset_t stop = StopSet();
    pthread_sigmask(SIG_UNBLOCK, &stop, nullptr);  // this thread (or a pre-main one) takes them
    Receive();
  });
}

StopSignals::~StopSignals() {
  const unsigned char quit = kQuit;
  (void)!write(pipe_[1], &quit, 1);
  receiver_.join();
}

void StopSignals::Receive() {
  const sigset_t stop = StopSet();
  for (;;) {
    unsigned char byte = 0;
    const ssize_t n = read(pipe_[0], &byte, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n != 1 || byte == kQuit) break;
    bool repeat;
    {
      absl::MutexLock lock(&mu_);
      repeat = first_ != 0;
      if (!repeat) first_ = byte;
    }
    if (repeat && on_repeat_) on_repeat_(byte);
  }
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);  // from now on only the handler sees them
}

int StopSignals::AwaitFirst() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](int* first) { return *first != 0; }, &first_));
  return first_;
}

}  // namespace latentbus::cli
