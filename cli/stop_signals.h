// SIGTERM and SIGINT for a long-running command (the broker): received on one thread of
// ours, never by surprise in another.
//
// The constructor blocks both signals in the calling thread, so every thread started
// after it (gRPC's, libtorch's, the translation pool's) inherits the block; installs a
// process-wide handler, because some libraries start threads before main runs (OpenBLAS
// starts its pool when it is loaded) and a signal delivered to one of those would
// otherwise take its default action and kill the process; and starts the thread that
// receives them. Construct it first thing in the command, before any server starts.
//
// The handler only writes the signal number to a pipe (async-signal-safe); the receiving
// thread reads it. AwaitFirst returns the first signal; each later one is passed to
// `on_repeat` on the receiving thread (the broker logs that its drain goes on).
//
// Thread safety: one instance per process. AwaitFirst from one thread.
#ifndef LATENTBUS_CLI_STOP_SIGNALS_H_
#define LATENTBUS_CLI_STOP_SIGNALS_H_

#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace latentbus::cli {

class StopSignals {
 public:
  explicit StopSignals(std::function<void(int)> on_repeat);
  ~StopSignals();  // stops the receiving thread (the handler stays: the process is ending)
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // Blocks until the first stop signal; returns its number.
  int AwaitFirst();

 private:
  void Receive();

  std::function<void(int)> on_repeat_;
  int pipe_[2] = {-1, -1};
  absl::Mutex mu_;
  int first_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread receiver_;
};

}  // namespace latentbus::cli

#endif  // LATENTBUS_CLI_STOP_SIGNALS_H_
