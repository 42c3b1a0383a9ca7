// A deliberate data race, built only in TSan builds (scripts/tsan.sh expects it to be
// reported): proves that the absl wrappers and suppressions in tsan_absl_sync.cc, linked
// in the same way as into the broker tests, still let a race on our own state through.
#include <thread>

#include "absl/synchronization/mutex.h"

namespace {
absl::Mutex mu;
int guarded_by_mu_in_one_thread_only = 0;
}  // namespace

int main() {
  std::thread locked([] {
    for (int i = 0; i < 1000; ++i) {
      absl::MutexLock lock(&mu);
      ++guarded_by_mu_in_one_thread_only;
    }
  });
  std::thread unlocked([] {
    for (int i = 0; i < 1000; ++i) ++guarded_by_mu_in_one_thread_only;  // the race
  });
  locked.join();
  unlocked.join();
  return 0;
}
