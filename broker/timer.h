// One thread that runs callbacks at given instants (message deadlines).
//
// Callbacks run on the timer's thread in deadline order; one that is due when
// scheduled runs promptly. A callback not yet run can be cancelled through the handle
// Schedule returned, which frees what it holds at once (a request answered long before
// its deadline leaves nothing behind). Shutdown drops callbacks not yet run.
//
// Thread safety: Schedule, Cancel and Shutdown are safe for concurrent use. A callback
// may call Schedule and Cancel; it must not call Shutdown.
#ifndef LATENTBUS_BROKER_TIMER_H_
#define LATENTBUS_BROKER_TIMER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace latentbus::broker {

class Timer {
 public:
  // Names one scheduled callback; the default value names none.
  struct Handle {
    absl::Time when;
    uint64_t id = 0;
  };

  Timer();
  ~Timer();  // Shutdown()

  // The handle is empty (id 0) after Shutdown: the callback will never run.
  Handle Schedule(absl::Time when, std::function<void()> callback);
  // Drops the callback unless it has started (or was dropped); true when it was dropped.
  bool Cancel(const Handle& handle);
  void Shutdown();
  size_t pending() const;

 private:
  void Loop();

  mutable absl::Mutex mu_;
  // (deadline, id): ids keep callbacks of one instant in the order they were scheduled.
  std::map<std::pair<absl::Time, uint64_t>, std::function<void()>> due_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_TIMER_H_
