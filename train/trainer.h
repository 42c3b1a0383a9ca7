// `latentbus bridge train`: trains an adapter bridge (train/adapter.h) from a sender's
// hidden states into a frozen receiver, with the loss on the receiver's output
// (train/objective.h). The sender's hidden states are computed once per message and kept;
// the wire is simulated both ways (the sender's packet and the broker's re-encoding of
// the translation, train/wire_simulation.h).
//
// Deterministic for a seed and thread count: step k draws its examples from a generator
// seeded by (seed, k), so a resumed run continues exactly where the checkpoint stopped.
// Checkpoints (every `checkpoint_every` steps and at the end): `<checkpoint>` (an adapter
// artifact), `<checkpoint>.optim` (optimizer state) and `<checkpoint>.json` (step, time,
// data hash, losses).
//
// Thread safety: one training run per call; models are loaded per call.
#ifndef LATENTBUS_TRAIN_TRAINER_H_
#define LATENTBUS_TRAIN_TRAINER_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace latentbus::train {

struct TrainOptions {
  std::string sender_model;
  std::string receiver_model;
  int sender_layer = 10;
  // A linear bridge (affine, procrustes) to start from, fitted for exactly these models
  // and layer; or an adapter to train further.
  std::string init;
  // "general": messages, one per line, in `data` (default); "task": labelled JSONL items
  // ({text, label, labels}) in `task_data`, label cross-entropy plus half the KL.
  std::string objective = "general";
  std::vector<std::string> data;
  std::vector<std::string> task_data;
  int steps = 200;
  double time_budget_seconds = 0;  // > 0: also stop when this much time has passed
  int batch = 4;                   // examples per optimizer step
  double lr = 3e-3;                // relative step size (scaled per tensor)
  int64_t rank = 128;              // width of the residual perceptron
  uint64_t seed = 1;
  std::string encoding = "int4/g32";  // simulated wire encoding, both hops
  int max_tokens = 64;                // sender tokens; longer messages are skipped
  int heldout = 24;                   // leading messages kept out of training (validation)
  std::string out;                    // the finished adapter artifact
  // Activation files of the two models on a calibration corpus (bridge/activation_file.h):
  // when given, the held-out embedding fidelity (cosine, retrieval) is recorded too.
  std::string fidelity_src, fidelity_dst;
  std::string checkpoint;  // empty: `<out>.ckpt`
  bool resume = false;     // continue from `checkpoint` when it exists
  int checkpoint_every = 25;
  int log_every = 5;
  int threads = 0;      // 0: one per core
  std::string command;  // the command line, recorded in the artifact's provenance
};

// Trains, writes `out` (and checkpoints), returns a summary: steps, seconds, the loss
// every log_every steps (from the first step, also across a resume), validation before and after,
// collapse diagnostics. The artifact's fidelity holds ask_agreement (held-out messages on which the
// receiver's answer from the latent is its answer from the text; the broker's policy can gate on
// it), val_kl and the controls' figures, and with fidelity_src/dst the embedding figures (cosine,
// ...).
absl::StatusOr<nlohmann::json> TrainBridge(const TrainOptions& options, std::ostream* progress);

// Messages from text files (one per non-empty line) and labelled items from JSONL files.
absl::StatusOr<std::vector<std::string>> ReadMessages(const std::vector<std::string>& paths);

}  // namespace latentbus::train

#endif  // LATENTBUS_TRAIN_TRAINER_H_
