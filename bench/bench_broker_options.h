// The settings every in-process broker of `latentbus bench bus` runs with.
#ifndef LATENTBUS_BENCH_BENCH_BROKER_OPTIONS_H_
#define LATENTBUS_BENCH_BENCH_BROKER_OPTIONS_H_

#include "broker/broker.h"

namespace latentbus::bench {

// Loopback on a free port, no metrics port, warnings only, no rate limit (the bench
// measures the path, not the limiter), bridges loaded from artifacts, and latents for
// every class but reasoning whatever fidelity the loaded bridge records (the bench
// measures the path, not the fidelity decision: a quickly fitted real artifact may score
// below the default threshold).
broker::BrokerOptions BenchBrokerOptions();

}  // namespace latentbus::bench

#endif  // LATENTBUS_BENCH_BENCH_BROKER_OPTIONS_H_
