// WriteWatchdog: bounds how long a blocking gRPC stream write may wait.
//
// A synchronous Write on a gRPC stream returns only once flow control lets the message
// go. A broker that stops reading (hung, stopped, half its network gone) holds it until
// keepalive gives the connection up, tens of seconds later, whatever the caller's
// deadline. gRPC cannot take one message back, so the watchdog cancels the whole stream
// (ClientContext::TryCancel) when a watched write passes its deadline: the write returns
// false, and the client's reader treats the stream as lost (it reconnects).
//
// One thread per watchdog, asleep until the earliest deadline watched (a write that ends
// in time wakes it at most once). Thread-safe.
#ifndef LATENTBUS_AGENT_CLIENT_WRITE_WATCHDOG_H_
#define LATENTBUS_AGENT_CLIENT_WRITE_WATCHDOG_H_

#include <grpcpp/client_context.h>

#include <cstdint>
#include <map>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace latentbus::agent {

class WriteWatchdog {
 public:
  WriteWatchdog();
  ~WriteWatchdog();  // stops the thread; no write may still be watched
  WriteWatchdog(const WriteWatchdog&) = delete;
  WriteWatchdog& operator=(const WriteWatchdog&) = delete;

  // Starts watching a write on the stream of `context` (which must outlive the watch):
  // at `deadline` the stream is cancelled. Returns the watch's id for End.
  uint64_t Begin(grpc::ClientContext* context, absl::Time deadline);
  // Ends the watch; true when it had fired (the stream was cancelled for this write).
  bool End(uint64_t id);

 private:
  struct Watch {
    grpc::ClientContext* context;
    absl::Time deadline;
    bool fired = false;
  };
  void Loop();

  absl::Mutex mu_;
  std::map<uint64_t, Watch> watches_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  absl::Time sleeping_until_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  bool wake_ ABSL_GUARDED_BY(mu_) = false;  // a watch ends before sleeping_until_
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace latentbus::agent

#endif  // LATENTBUS_AGENT_CLIENT_WRITE_WATCHDOG_H_
