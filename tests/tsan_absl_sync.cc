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

// Dynamic-annotation entry points of the TSan runtime: reads by this thread between Begin
// and End are not recorded.
extern "C" void AnnotateIgnoreReadsBegin(const char* file, int line);
extern "C" void AnnotateIgnoreReadsEnd(const char* file, int line);

namespace {
// absl evaluates Condition predicates (our code, reading mutex-guarded state) inside the
// uninstrumented Mutex internals, where no wrapper can annotate them: a waiter checks its
// predicate inside Await and LockSlow, and the unlocking thread checks the waiters'
// predicates inside Unlock, all under the mutex's internal protection but outside the
// acquire/release the wrappers tell TSan about. Reads made inside the real calls are
// therefore not recorded; writes still are (predicates only read).
class IgnoreReads {
 public:
  IgnoreReads() { AnnotateIgnoreReadsBegin(__FILE__, __LINE__); }
  ~IgnoreReads() { AnnotateIgnoreReadsEnd(__FILE__, __LINE__); }
  IgnoreReads(const IgnoreReads&) = delete;
  IgnoreReads& operator=(const IgnoreReads&) = delete;
};
}  // namespace

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
  {
    IgnoreReads ignore;
    __real__ZN4absl7debian35Mutex4LockEv(mu);
  }
  __tsan_acquire(mu);
}
void __wrap__ZN4absl7debian35Mutex6UnlockEv(Mutex* mu) {
  __tsan_release(mu);
  IgnoreReads ignore;
  __real__ZN4absl7debian35Mutex6UnlockEv(mu);
}
bool __wrap__ZN4absl7debian35Mutex7TryLockEv(Mutex* mu) {
  bool locked;
  {
    IgnoreReads ignore;
    locked = __real__ZN4absl7debian35Mutex7TryLockEv(mu);
  }
  if (locked) __tsan_acquire(mu);
  return locked;
}
void __wrap__ZN4absl7debian35Mutex10ReaderLockEv(Mutex* mu) {
  {
    IgnoreReads ignore;
    __real__ZN4absl7debian35Mutex10ReaderLockEv(mu);
  }
  __tsan_acquire(mu);
}
void __wrap__ZN4absl7debian35Mutex12ReaderUnlockEv(Mutex* mu) {
  __tsan_release(mu);
  IgnoreReads ignore;
  __real__ZN4absl7debian35Mutex12ReaderUnlockEv(mu);
}
void __wrap__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(Mutex* mu, const Condition& c) {
  __tsan_release(mu);
  {
    IgnoreReads ignore;
    __real__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(mu, c);
  }
  __tsan_acquire(mu);
}
bool __wrap__ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    Mutex* mu, const Condition& c, Time deadline) {
  __tsan_release(mu);
  bool ok;
  {
    IgnoreReads ignore;
    ok = __real__ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE(mu, c,
                                                                                      deadline);
  }
  __tsan_acquire(mu);
  return ok;
}
bool __wrap__ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    Mutex* mu, const Condition& c, Duration timeout) {
  __tsan_release(mu);
  bool ok;
  {
    IgnoreReads ignore;
    ok = __real__ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE(mu, c,
                                                                                         timeout);
  }
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

// Debian's gRPC, protobuf and absl are not instrumented: interceptors (malloc, free,
// memcpy, sendmsg, ...) called from inside them carry no synchronisation TSan can see.
extern "C" const char* __tsan_default_options() { return "ignore_noninstrumented_modules=1"; }

// Suppressions, all for gRPC's own header code (templates compiled into our binaries, so
// instrumented, but synchronised by the uninstrumented library):
// - race_top:grpc:: / the std::function handler: calls, ops and messages handed between
//   gRPC's threads through its completion queues;
// - InterceptorBatchMethodsImpl: a call's op-set interceptor state, touched when a write
//   starts and when the previous one completes on another thread;
// - CallbackWithSuccessTag::Set/Clear, CallbackWithStatusTag's constructor,
//   ServerCallbackCall's constructor (its ref count), CallOpServerSendStatus,
//   CallOpClientRecvStatus: per-call state that gRPC sets up, uses and destroys on
//   whichever of its threads runs the step;
// - CallOpSendMessage::SendMessagePtr: the send op's serialiser, set by each StartWrite;
//   write n+1 starts from the completion of write n, ordered inside gRPC;
// - ServerBidiReactor::InternalBindStream: the reactor base class's bind backlog;
// - CallbackBidiHandler<...>::ServerCallbackReaderWriterImpl's constructor and
//   CallOnDone: the raw (ByteBuffer) Connect stream's call object, built on the thread that
//   accepts the call and completed and freed on an executor thread after gRPC's own ref
//   count (uninstrumented) reaches zero.
// Only gRPC frames touch these; reports on our reactors' and the broker's state stay
// visible: tests/tsan_canary.cc checks that a plain race still is reported, and
// tests/tsan_canary_proto.cc that a race on a message gRPC serialises is (no protobuf
// parse/serialise frame is suppressed: the broker parses and serialises Connect frames
// on its own threads).
extern "C" const char* __tsan_default_suppressions() {
  return "race_top:grpc::\n"
         "race_top:std::_Function_handler<void (bool), grpc::\n"
         "race:grpc::internal::InterceptorBatchMethodsImpl\n"
         "race:grpc::internal::CallbackWithSuccessTag::Set\n"
         "race:grpc::internal::CallbackWithSuccessTag::Clear\n"
         "race:grpc::internal::CallbackWithStatusTag::CallbackWithStatusTag\n"
         "race:grpc::internal::ServerCallbackCall::ServerCallbackCall\n"
         "race:grpc::internal::CallOpServerSendStatus\n"
         "race:grpc::internal::CallOpClientRecvStatus\n"
         "race:grpc::internal::CallOpSendMessage::SendMessagePtr\n"
         "race:grpc::ServerBidiReactor*::InternalBindStream\n"
         "race:grpc::internal::CallbackBidiHandler*::ServerCallbackReaderWriterImpl::"
         "ServerCallbackReaderWriterImpl\n"
         "race:grpc::internal::CallbackBidiHandler*::ServerCallbackReaderWriterImpl::CallOnDone\n";
}
