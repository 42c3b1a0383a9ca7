// `latentbus bench e2e`: one message between two real models through a real broker on
// loopback, from "the sender has the content" to "the receiver has read it and produced
// its first output token", on both paths, for several message lengths:
//
//   latent: sender prefill to its tap layer + codec + broker (validation, bridge,
//           re-quantization) + gRPC transport + receiver decode + receiver prefill of the
//           soft tokens + first token;
//   text:   the sender's model writes the message (exactly N tokens) + broker +
//           transport + receiver prefill of the text + first token (the baseline).
//
// The bus's own share of the latent path is codec + (send -> delivery: broker, bridge,
// transport) + decode. Medians over repetitions (one warm-up run first); every figure in
// the same run.
#ifndef LATENTBUS_BENCH_E2E_BENCH_H_
#define LATENTBUS_BENCH_E2E_BENCH_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace latentbus::bench {

struct E2EBenchOptions {
  std::string sender_model;  // GGUF / HF folder
  std::string receiver_model;
  int sender_layer = 10;
  int receiver_layer = 6;
  std::vector<int> lengths = {32, 64, 128};
  int reps = 2;
  std::string encoding = "int4/g32";          // what the sender sends
  std::string receive_encoding = "int8/g32";  // what the broker delivers
  // Folder of bridge artifacts for the pair; empty: fit an affine bridge in the run on
  // `fit_items` corpus items (timing does not depend on the fit's quality).
  std::string bridge_dir;
  std::string corpus = "data/corpus/corpus.txt";
  int fit_items = 40;
  int threads = 1;  // libtorch threads (one: stable on a shared box; 0 = one per core)
  // Where both models run and the broker's bridges translate: cpu, cuda or cuda:N
  // (agent/llm LoadOptions::device, broker translation.device; docs/GPU.md).
  std::string device = "cpu";
};

// JSON: "device", "sender", "receiver", "bridge" {id, kind, cosine, source}, "threads", "reps",
// and "lengths": [{tokens, latent_ms, text_ms, speedup, bus_ms, bus_share, latent_bytes,
// text_bytes, sender_prefill_ms, codec_ms, transport_ms, decode_ms, receiver_read_ms,
// text_write_ms, text_transport_ms, text_read_ms}] (medians).
absl::StatusOr<nlohmann::json> RunE2EBench(const E2EBenchOptions& options, std::ostream* progress);

void PrintE2EBenchTable(const nlohmann::json& result, std::ostream& out);

}  // namespace latentbus::bench

#endif  // LATENTBUS_BENCH_E2E_BENCH_H_
