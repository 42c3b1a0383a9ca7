// `latentbus eval restate`: does the receiver get the words of a message from its latent?
// The receiver is asked, in its chat format, to repeat the message word for word, after
// reading
//   text       the message's text,
//   latent     the sender's wire latent of it through the bridge (and latent_<name> for
//              each compared bridge),
//   none       nothing (what it says without a message),
// and its greedy reply is scored:
//   recall     content words of the message (lowercased words of 3+ letters or any digits,
//              not in a short stop list) found in the reply;
//   rouge_l    ROUGE-L F1 (word-level longest common subsequence) of the reply against
//              the text condition's own reply (the most a latent can hope to match) and
//              against the message itself.
// Prompt: agent/node/prompt.h's chat reader with the instruction "Repeat the message word
// for word." (bridge training uses the same instruction on its own, disjoint, data).
#ifndef LATENTBUS_EVAL_RESTATE_EVAL_H_
#define LATENTBUS_EVAL_RESTATE_EVAL_H_

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace latentbus::eval {

struct RestateEvalOptions {
  std::vector<std::string> data;  // JSONL {text, ...} or plain text (one message a line)
  std::string sender_model;
  std::string receiver_model;
  int sender_layer = 10;
  std::string bridge;  // sender -> receiver artifact (required)
  std::vector<std::pair<std::string, std::string>> compare;  // (name, path)
  std::string encoding = "int4/g32";
  size_t limit = 40;  // messages in all (0 = all)
  int max_new_tokens = 64;
  int examples = 5;  // replies shown in the JSON, per condition
  int threads = 0;
};

// JSON: n, conditions, per condition {recall, rouge_l_vs_text_reply, rouge_l_vs_message},
// examples [{message, <condition>: reply}], bridge/compare {source, kind}.
absl::StatusOr<nlohmann::json> RunRestateEval(const RestateEvalOptions& options,
                                              std::ostream* progress);
void PrintRestateEvalTable(const nlohmann::json& result, std::ostream& out);

// The scores, exposed for tests.
std::vector<std::string> ContentWords(const std::string& text);
double ContentRecall(const std::string& message, const std::string& reply);
double RougeL(const std::string& candidate, const std::string& reference);

}  // namespace latentbus::eval

#endif  // LATENTBUS_EVAL_RESTATE_EVAL_H_
