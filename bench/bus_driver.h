// The workload `latentbus bench bus` runs against each system (bench/bus_transport.h):
// N simulated agents in one of three patterns, open or closed loop, with a warm-up, and
// per-message latency measured with one clock all agents share (they live in this
// process: std::chrono::steady_clock; the send time travels in the envelope's metadata
// under "bench_t0_ns").
//
// Patterns (agents N):
//   direct   N/2 senders, each sending to its own receiver; latency = send -> delivery.
//   topic    one publisher, N-1 subscribers of topic "bench"; latency = send -> each
//            delivery (fan-out: one message yields N-1 latencies).
//   request  N/2 requesters, each with its own responder, which answers every request
//            with a short text reply carrying correlation_id = the request's id;
//            latency = the round trip (request sent -> reply delivered).
// Closed loop: each sender keeps `window` messages in flight (a message completes at
// its delivery, at its last fan-out delivery, or at its reply). Open loop: senders send
// at `rate` messages/s in all, evenly spaced, whatever happens to earlier messages.
//
// Only messages sent inside the measured window [warm-up end, warm-up end + duration)
// are recorded; after the window the driver waits up to `drain_seconds` for them.
//
// Thread safety: RunWorkload blocks its caller and owns every thread it starts.
#ifndef LATENTBUS_BENCH_BUS_DRIVER_H_
#define LATENTBUS_BENCH_BUS_DRIVER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bench/bus_transport.h"
#include "bench/latency_histogram.h"
#include "latentbus/v1/envelope.pb.h"
#include "latentbus/v1/model.pb.h"

namespace latentbus::bench {

enum class BusMode { kDirect, kTopic, kRequest };

const char* BusModeName(BusMode mode);
// "direct", "topic", "request".
absl::StatusOr<BusMode> ParseBusMode(absl::string_view name);

inline constexpr char kBenchTopic[] = "bench";
inline constexpr char kSendTimeKey[] = "bench_t0_ns";

struct Workload {
  BusMode mode = BusMode::kRequest;
  int agents = 4;
  double rate = 0;  // open loop: messages/s over all senders; 0 = closed loop
  int window = 1;   // closed loop: messages in flight per sender
  double warmup_seconds = 1;
  double duration_seconds = 3;
  double drain_seconds = 2;
};

// InvalidArgument unless agents >= 2 (and even for direct / request), window >= 1,
// rate >= 0, duration > 0 and warm-up >= 0.
absl::Status ValidateWorkload(const Workload& workload);

// The agents of `workload`: senders register with `sender_model`, receivers (and
// subscribers, responders) with `receiver_model`. Ids: "bench-s<i>" / "bench-r<i>" for
// pairs, "bench-pub" / "bench-sub<i>" for the topic pattern.
std::vector<BusAgent> PlanAgents(const Workload& workload, const v1::ModelSpec& sender_model,
                                 const v1::ModelSpec& receiver_model);

struct PhaseResult {
  LatencyHistogram latency;    // nanoseconds
  uint64_t sent = 0;           // messages sent in the measured window
  uint64_t expected = 0;       // completions those sends should produce (fan-out counted)
  uint64_t completed = 0;      // latencies recorded
  uint64_t completed_all = 0;  // completions over the whole phase, warm-up included
  uint64_t lost = 0;           // expected - completed after draining (refused ones included)
  // The transport's WireMessages() after draining: every message on the wire over the
  // whole phase (connecting and warm-up included).
  uint64_t wire_messages = 0;
  double seconds = 0;     // the measured window
  double msgs_per_s = 0;  // completed / seconds: deliveries/s, or round trips/s
  double sent_per_s = 0;  // sent / seconds
  // Refusals and failures reported by the system or the transport, by reason, over the
  // whole phase (warm-up included).
  std::map<std::string, uint64_t> rejects;
  uint64_t reject_total = 0;
};

// Connects `agents` through `transport`, runs the workload with `payload` (an envelope
// without ids or recipient; bench/bus_payload.h), drains, and closes the transport.
absl::StatusOr<PhaseResult> RunWorkload(BusTransport& transport,
                                        const std::vector<BusAgent>& agents,
                                        const Workload& workload, const v1::Envelope& payload);

}  // namespace latentbus::bench

#endif  // LATENTBUS_BENCH_BUS_DRIVER_H_
