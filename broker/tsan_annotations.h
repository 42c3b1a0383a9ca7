// Happens-before annotations for ThreadSanitizer where the synchronisation is invisible
// to it: gRPC hands a reactor from the thread that created it to the threads that run its
// reactions through its (uninstrumented, Debian-built) completion queues. Without these
// TSan reports every first touch of a reactor in a reaction as a race.
//
// No-ops unless compiled with -fsanitize=thread.
#ifndef LATENTBUS_BROKER_TSAN_ANNOTATIONS_H_
#define LATENTBUS_BROKER_TSAN_ANNOTATIONS_H_

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
// Everything this thread did so far happens before a later LATENTBUS_TSAN_ACQUIRE(addr).
#define LATENTBUS_TSAN_RELEASE(addr) \
  __tsan_release(const_cast<void*>(static_cast<const void*>(addr)))
#define LATENTBUS_TSAN_ACQUIRE(addr) \
  __tsan_acquire(const_cast<void*>(static_cast<const void*>(addr)))
#else
#define LATENTBUS_TSAN_RELEASE(addr) ((void)(addr))
#define LATENTBUS_TSAN_ACQUIRE(addr) ((void)(addr))
#endif

#endif  // LATENTBUS_BROKER_TSAN_ANNOTATIONS_H_
