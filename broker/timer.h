// One thread that runs callbacks at given instants (message deadlines).
//
// Callbacks run on the timer's thread in deadline order; one that is due when
// scheduled runs promptly. Shutdown drops callbacks not yet run.
//
// Thread safety: Schedule and Shutdown are safe for concurrent use. A callback may
// call Schedule; it must not call Shutdown.
#ifndef LATENTBUS_BROKER_TIMER_H_
#define LATENTBUS_BROKER_TIMER_H_

#include <functional>
#include <map>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace latentbus::broker {

class Timer {
 public:
  Timer();
  ~Timer();  // Shutdown()

  void Schedule(absl::Time when, std::function<void()> callback);
  void Shutdown();
  size_t pending() const;

 private:
  void Loop();

  mutable absl::Mutex mu_;
  std::multimap<absl::Time, std::function<void()>> due_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_TIMER_H_
