// `latentbus bench bus`: the broker under N simulated agents (bench/bus_driver.h) next
// to two baselines measured in the same run with the same payloads and pattern:
//   relay      the bare gRPC bidi relay (bench/relay_server.h): the floor;
//   nats       nats-server (a child process) with the NATS C client.
// and the broker itself:
//   latentbus       the payload through the broker; latents are validated and
//                   translated through a real 576 -> 640 bridge (the broker translates
//                   every latent it delivers; bench/bus_bridge.h);
//   latentbus_text  latent payloads only: the same envelope size as text, i.e. the
//                   broker without latent validation and translation.
// With `cluster.brokers` >= 1 (`--cluster N`), the request and direct modes also measure
// the cross-broker path over a JetStream cluster next to JetStream alone, per sync policy
// (bench/bus_cluster.h), and "cluster" at the top level sums them up for the first mode:
// {"brokers", "servers", "policies": {policy: {"jetstream_p50_us", "jetstream_p99_us",
// "p50_us", "p99_us", "msgs_per_s" (N brokers), "one_broker_msgs_per_s",
// "vs_jetstream_p50", "vs_jetstream_p99", "msgs_per_s_n_vs_1"}}, "goal"}; in request mode
// JetStream's round trip is two hops, the goal's unit (at most 1.5x).
// Each (mode, system) runs with a fresh system and fresh connections.
//
// With `tracing`, the rows and ratios of bench/bus_tracing.h ("tracing" at the top level).
//
// JSON contract (tested): at the top level, for the first mode and the "latentbus"
// system: "p50_us", "p90_us", "p99_us", "p999_us", "max_us", "msgs_per_s", "rejects",
// "floor_p50_us", "floor_p99_us", "floor_msgs_per_s", "nats_p50_us", "nats_p99_us",
// "nats_msgs_per_s", "vs_floor_p50", "vs_nats_p50"; and "modes": {mode: {"systems":
// {system: {same latency keys, "lost", "curve": [[percentile, us], ...], ...}},
// "ratios": {...}}}, plus "payload", "bridge", "workload", "machine", "date".
//
// Thread safety: RunBusBench blocks; one at a time per process (it sets spdlog's level).
#ifndef LATENTBUS_BENCH_BUS_BENCH_H_
#define LATENTBUS_BENCH_BUS_BENCH_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/bus_cluster.h"
#include "bench/bus_driver.h"
#include "bench/bus_payload.h"
#include "broker/config.h"
#include "nlohmann/json.hpp"

namespace latentbus::bench {

struct BusBenchOptions {
  std::vector<BusMode> modes = {BusMode::kRequest, BusMode::kDirect, BusMode::kTopic};
  Workload workload;  // its mode is set per entry of `modes`
  PayloadSpec payload;
  // A bridge/ artifact for latent payloads; empty => an affine bridge fitted in-process
  // on synthetic pairs, latent width -> `receiver_width`.
  std::string bridge_path;
  // A second artifact for the same sender (same width): its own latentbus row
  // ("latentbus_compare"), so two bridges' translation times and round trips come from
  // the same run (e.g. the trained adapter next to the fitted affine bridge).
  std::string compare_bridge_path;
  uint32_t receiver_width = 640;
  // Target broker "host:port"; empty => an in-process broker on loopback per run.
  std::string broker_address;
  std::string token;
  std::string nats_server;  // empty: nats::DefaultNatsServer() (nats/nats_server_binary.h)
  bool skip_nats = false;
  // Stream protocol revision the broker's agents offer (broker.proto): 2 = lean frames.
  uint32_t protocol = 2;
  bool skip_relay = false;
  // In-process broker: translation worker threads, and the threads each bridge call may
  // use in libtorch/OpenBLAS (broker/config.h; 0 = the libraries' default, one per core).
  int translation_threads = 2;
  int translation_compute_threads = 1;
  // In-process broker: the products bridges translate with (broker/config.h
  // TranslationConfig::kernels): auto, blas, int8 or an int8 variant.
  std::string translation_kernels = "auto";
  // In-process broker: largest latent translated on the receiving thread when the workers
  // are idle (TranslationConfig::inline_max_tokens; 0 = always on the workers).
  uint32_t translation_inline_max_tokens = broker::TranslationConfig{}.inline_max_tokens;
  // `--cluster N` (N >= 1): also the cross-broker systems of bench/bus_cluster.h for the
  // request and direct modes: JetStream alone, one broker, and N brokers in cluster mode,
  // per sync policy; 0 = off. `cluster.nats_server`, `bridge_path`, token and protocol are
  // filled in from the options above.
  ClusterBenchOptions cluster;
  // `--tracing`: the latentbus row again with the broker tracing at 1% and at 100%
  // sampling to an OTLP sink in this process (bench/bus_tracing.h); in-process broker only.
  bool tracing = false;
};

absl::StatusOr<nlohmann::json> RunBusBench(const BusBenchOptions& options, std::ostream* progress);

}  // namespace latentbus::bench

#endif  // LATENTBUS_BENCH_BUS_BENCH_H_
