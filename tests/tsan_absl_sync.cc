// ThreadSanitizer support for Debian's prebuilt Abseil (tests only, TSan builds only).
//
// libabsl_synchronization.so is not built with -fsanitize=thread, so TSan cannot see
// absl::Mutex / absl::Notification establish happens-before and reports every access
// guarded by them as a race. The test binaries are linked with -Wl,--wrap for the
// entry points our code calls (see tests/CMakeLists.txt); each wrapper calls the real
// function and tells TSan about the acquire/release it performs. Blocking inside Await
// releases and re-acquires the mutex, so Await is annotated as release + acquire.
#include <sanitizer/tsan_interface.h>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

using absl::Condition;
using absl::Duration;
using absl::Mutex;
using absl::Notification;
using absl::Time;

extern "C" {

void __real__ZN4absl7debian35Mutex4LockEv(Mutex* mu);
void __real__ZN4absl7debian35Mutex6UnlockEv(Mutex* mu);
bool __real__ZN4absl7debian35Mutex7TryLockEv(Mutex* mu);
void __real__ZN4absl7debian35Mutex10ReaderLockEv(Mutex* mu);
void __real__ZN4absl7debian35Mutex12ReaderUnlockEv(Mutex* mu);
void __real__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(Mutex* mu, const Condition& c);
bool __real__ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    Mutex* mu, const Condition& c, Time deadline);
bool __real__ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    Mutex* mu, const Condition& c, Duration timeout);
void __real__ZN4absl7debian312Notification6NotifyEv(Notification* n);
void __real__ZNK4absl7debian312Notification19WaitForNotificationEv(const Notification* n);
bool __real__ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE(
    const Notification* n, Duration timeout);

void __wrap__ZN4absl7debian35Mutex4LockEv(Mutex* mu) {
  __real__ZN4absl7debian35Mutex4LockEv(mu);
  __tsan_acquire(mu);
}
void __wrap__ZN4absl7debian35Mutex6UnlockEv(Mutex* mu) {
  __tsan_release(mu);
  __real__ZN4absl7debian35Mutex6UnlockEv(mu);
}
bool __wrap__ZN4absl7debian35Mutex7TryLockEv(Mutex* mu) {
  bool locked = __real__ZN4absl7debian35Mutex7TryLockEv(mu);
  if (locked) __tsan_acquire(mu);
  return locked;
}
void __wrap__ZN4absl7debian35Mutex10ReaderLockEv(Mutex* mu) {
  __real__ZN4absl7debian35Mutex10ReaderLockEv(mu);
  __tsan_acquire(mu);
}
void __wrap__ZN4absl7debian35Mutex12ReaderUnlockEv(Mutex* mu) {
  __tsan_release(mu);
  __real__ZN4absl7debian35Mutex12ReaderUnlockEv(mu);
}
void __wrap__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(Mutex* mu, const Condition& c) {
  __tsan_release(mu);
  __real__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(mu, c);
  __tsan_acquire(mu);
}
bool __wrap__ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    Mutex* mu, const Condition& c, Time deadline) {
  __tsan_release(mu);
  bool ok =
      __real__ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE(mu, c, deadline);
  __tsan_acquire(mu);
  return ok;
}
bool __wrap__ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    Mutex* mu, const Condition& c, Duration timeout) {
  __tsan_release(mu);
  bool ok = __real__ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE(
      mu, c, timeout);
  __tsan_acquire(mu);
  return ok;
}
void __wrap__ZN4absl7debian312Notification6NotifyEv(Notification* n) {
  __tsan_release(n);
  __real__ZN4absl7debian312Notification6NotifyEv(n);
}
void __wrap__ZNK4absl7debian312Notification19WaitForNotificationEv(const Notification* n) {
  __real__ZNK4absl7debian312Notification19WaitForNotificationEv(n);
  __tsan_acquire(const_cast<Notification*>(n));
}
bool __wrap__ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE(
    const Notification* n, Duration timeout) {
  bool ok = __real__ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE(
      n, timeout);
  if (ok) __tsan_acquire(const_cast<Notification*>(n));
  return ok;
}

}  // extern "C"

// absl evaluates Condition predicates (our code, reading mutex-guarded state) inside the
// uninstrumented Mutex internals, where no wrapper can annotate them: the waiter checks
// its predicate after re-acquiring inside Await, and the unlocking thread checks waiters'
// predicates inside Unlock. Those reads are protected by the mutex; suppress reports whose
// stack contains the predicate trampoline (our predicates only read guarded fields).
// Debian's gRPC, protobuf and absl are not instrumented: interceptors (malloc, free,
// memcpy, sendmsg, ...) called from inside them carry no synchronisation TSan can see.
extern "C" const char* __tsan_default_options() { return "ignore_noninstrumented_modules=1"; }

extern "C" const char* __tsan_default_suppressions() {
  return "race:absl::debian3::Condition::CastAndCallMethod\n"
         "race:absl::debian3::Condition::CastAndCallFunction\n"
         // gRPC's own inline (header) code handing calls, ops and messages between its
         // threads through its uninstrumented completion queues; and the messages it
         // (de)serialises on those threads. Reports in broker logic stay visible.
         "race_top:grpc::\n"
         "race_top:std::_Function_handler<void (bool), grpc::\n"
         "race:google::protobuf::MessageLite::ParseFromZeroCopyStream\n"
         "race:google::protobuf::internal::MergeFromImpl\n"
         "race:grpc::GenericSerialize\n"
         "race:grpc::GenericDeserialize\n"
         // Interceptor state of a call's op set, touched by gRPC's header code when a
         // write is started and when the previous one completes on another thread.
         "race:grpc::internal::InterceptorBatchMethodsImpl\n";
}
