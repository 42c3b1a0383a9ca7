// What a bridge is trained to do: make the frozen receiver, reading the translated soft
// tokens, behave as it does when reading the message's text.
//
// One example is one message under one instruction, drawn per example:
//   ask:     a generic classification question in the evaluation's raw-completion format
//            ("Read the message and answer with one word from: {labels}.\nMessage:...
//            \nAnswer:") with a label set drawn from a broad pool; KL at the answer;
//   restate: the chat template, "Repeat the message word for word.", the message's tokens
//            teacher-forced as the reply: cross-entropy on them plus KL at each position;
//   respond: the chat template with a generic question about the message; the reply the
//            receiver writes from the text (greedy, a few tokens) teacher-forced: KL.
// The teacher is the receiver reading the text (no gradient); the student reads the soft
// tokens. KL(teacher || student) over the whole vocabulary, temperature 1.
// The task-tuned objective (TaskExample) is the ask format with the item's own labels:
// cross-entropy of the gold label among the item's labels (each by its first token, as
// `eval classify` decides), plus half the KL.
//
// Thread safety: functions over const models; safe concurrently with distinct tensors.
#ifndef LATENTBUS_TRAIN_OBJECTIVE_H_
#define LATENTBUS_TRAIN_OBJECTIVE_H_

#include <torch/torch.h>

#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/llm/model.h"
#include "eval/classify_eval.h"

namespace latentbus::train {

enum class Instruction { kAsk, kRestate, kRespond };
const char* InstructionName(Instruction instruction);

// The pool of label sets the ask instruction draws from.
const std::vector<std::vector<std::string>>& AskLabelSets();

struct LossWeights {
  double kl = 2.0;
  double restate = 1.0;
  double label = 1.0;  // task-tuned cross-entropy
};

struct ExampleLoss {
  torch::Tensor loss;                // scalar, differentiable with respect to the soft tokens
  double kl = 0;                     // mean KL per scored position
  double ce = 0;                     // restatement or label cross-entropy (0 when none)
  double entropy = 0;                // the student's mean predictive entropy over scored positions
  int64_t first_token = -1;          // the student's argmax at the first scored position
  int64_t teacher_first_token = -1;  // the text-reading receiver's, at the same position
  Instruction instruction = Instruction::kAsk;
};

// The receiver reading `soft` ([n, d], differentiable) in place of `text`, under an
// instruction drawn with `rng`. `respond_tokens`: how many reply tokens the respond
// instruction teacher-forces.
absl::StatusOr<ExampleLoss> GeneralExample(const agent::llm::Model& receiver,
                                           const std::string& text, const torch::Tensor& soft,
                                           const LossWeights& weights, std::mt19937_64* rng,
                                           int respond_tokens = 8);

// As GeneralExample with a fixed instruction (`labels` for kAsk). With `gold` >= 0 (kAsk
// only), adds weights.label x the cross-entropy of labels[gold] among the labels, each
// scored by its first token at the answer (the evaluation's decision rule).
absl::StatusOr<ExampleLoss> InstructionExample(const agent::llm::Model& receiver,
                                               const std::string& text, const torch::Tensor& soft,
                                               Instruction instruction,
                                               const std::vector<std::string>& labels,
                                               const LossWeights& weights, std::mt19937_64* rng,
                                               int respond_tokens = 8, int gold = -1);

// Task-tuned: the ask format with the item's labels.
absl::StatusOr<ExampleLoss> TaskExample(const agent::llm::Model& receiver,
                                        const eval::LabelledItem& item, const torch::Tensor& soft,
                                        const LossWeights& weights);

}  // namespace latentbus::train

#endif  // LATENTBUS_TRAIN_OBJECTIVE_H_
