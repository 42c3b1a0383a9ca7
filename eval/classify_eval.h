// `latentbus eval classify`: what a sender's latent carries, measured by a receiver
// answering a classification instruction after reading
//   text   the item's text,
//   latent the sender's hidden states of the text (tap layer, BOS row dropped), through
//          the codec (quantized and dequantized as on the wire) and the bridge,
//   self   the receiver's own hidden states through its self bridge (a control: the same
//          channel without the change of model),
//   none   nothing.
// Prompt (raw completion, no chat template; data/classify/README.md):
//   Read the message and answer with one word from: {labels}.\nMessage:{message}\nAnswer:
// The prediction is the label whose first token (" label") the receiver scores highest as
// the next token, among the item's labels only: no free-text parsing.
#ifndef LATENTBUS_EVAL_CLASSIFY_EVAL_H_
#define LATENTBUS_EVAL_CLASSIFY_EVAL_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/node/prompt.h"
#include "nlohmann/json.hpp"

namespace latentbus::eval {

struct ClassifyEvalOptions {
  std::vector<std::string> data;  // JSONL files: {id, task, text, label, labels}
  std::string sender_model;
  std::string receiver_model;
  int sender_layer = 10;
  int receiver_layer = 6;
  std::string bridge;       // sender -> receiver artifact; empty: fit one in the run
  std::string self_bridge;  // receiver self artifact; empty: fit one in the run
  bool self = true;         // the self-bridge control
  bool controls = true;     // another item's latent, zero latents
  // More sender -> receiver bridges read in the same run: (name, artifact path); the
  // condition is "latent_<name>".
  std::vector<std::pair<std::string, std::string>> compare;
  std::string corpus = "data/corpus/corpus.txt";
  int fit_items = 200;  // corpus items for in-run fits
  std::string encoding = "int4/g32";
  size_t limit = 0;  // items per file (0 = all)
  int threads = 1;
};

// One labelled item of a JSONL file: {id, task, text, label, labels}.
struct LabelledItem {
  std::string task, text, label;
  std::vector<std::string> labels;
};

// The items of `path` (at most `limit`, 0: all). NotFound / InvalidArgument naming the
// line when a line is not an item or its label is not among its labels.
absl::StatusOr<std::vector<LabelledItem>> ReadLabelledItems(const std::string& path,
                                                            size_t limit = 0);

// The classification prompt above for `labels` (in this order), without its message:
// set `text` (with a leading space) or `soft` before building it. Bridge training asks
// its questions in the same format.
agent::node::ReadPrompt ClassifyPrompt(const std::vector<std::string>& labels);

// JSON: n, conditions, <condition>_acc for each (text, latent, latent_<name>, self, other,
// zero, none), chance, per task {n, *_acc, chance}, bridge {source, kind, cosine},
// compare {name: {source, kind, cosine}}, self_bridge {source, cosine}, prompt,
// significance {latent condition: {text_only, latent_only, mcnemar_p}}.
absl::StatusOr<nlohmann::json> RunClassifyEval(const ClassifyEvalOptions& options,
                                               std::ostream* progress);

// Two-sided exact McNemar p-value for b and c discordant pairs.
double McNemarExactP(int b, int c);

void PrintClassifyEvalTable(const nlohmann::json& result, std::ostream& out);

}  // namespace latentbus::eval

#endif  // LATENTBUS_EVAL_CLASSIFY_EVAL_H_
