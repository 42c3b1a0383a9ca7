#include "train/objective.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "agent/llm/model_internals.h"
#include "agent/node/prompt.h"
#include "eval/classify_eval.h"

namespace latentbus::train {
namespace {

using agent::llm::Model;
using agent::llm::ModelInternals;
using agent::llm::PromptSegment;

const std::vector<std::string>& RespondQuestions() {
  static const auto* questions = new std::vector<std::string>{
      "What is this message about? Answer in a few words.",
      "Summarize the message in one short sentence.",
      "Who or what does the message mention?",
      "Is this good news or bad news? Explain briefly.",
      "What kind of message is this?",
      "What should happen next, according to the message?",
      "How does the writer seem to feel?",
      "Give the message a short title.",
  };
  return *questions;
}

// The reader's prompt segments with the message as text, or as a soft slot of `rows` rows.
absl::StatusOr<std::vector<PromptSegment>> Segments(const Model& m, agent::node::ReadPrompt p,
                                                    const std::string* text, int64_t rows) {
  if (text != nullptr) {
    p.text = p.chat ? *text : " " + *text;
  } else {
    codec::Tensor slot;
    slot.shape = {static_cast<uint32_t>(rows), static_cast<uint32_t>(m.info().embedding_size)};
    slot.data.assign(codec::NumElements(slot.shape), 0.0f);
    p.soft = std::move(slot);
  }
  return agent::node::BuildReadPrompt(m, p);
}

// Log-probabilities [C+1, vocab] at the last C+1 positions of the prompt followed by
// `continuation` (C tokens): row i predicts continuation[i], the last row what follows.
// With `soft` the message is those rows (gradients reach them); otherwise `text`.
absl::StatusOr<torch::Tensor> LogProbs(const Model& m, const agent::node::ReadPrompt& prompt,
                                       const std::string* text, const torch::Tensor* soft,
                                       const std::vector<int32_t>& continuation) {
  absl::StatusOr<std::vector<PromptSegment>> segments =
      Segments(m, prompt, text, soft ? soft->size(0) : 0);
  if (!segments.ok()) return segments.status();
  if (!continuation.empty()) segments->push_back(PromptSegment::Tokens(continuation));
  std::vector<torch::Tensor> softs;
  if (soft != nullptr) softs.push_back(*soft);
  absl::StatusOr<torch::Tensor> x =
      ModelInternals::PromptEmbeddings(m, *segments, /*add_bos=*/false, softs);
  if (!x.ok()) return x.status();
  const agent::llm::Transformer& t = ModelInternals::transformer(m);
  const int64_t rows = static_cast<int64_t>(continuation.size()) + 1;
  const torch::Tensor h = t.FinalHidden(*x);
  return torch::log_softmax(t.Head(h.narrow(0, h.size(0) - rows, rows)), -1);
}

// Fills kl, entropy, first_token of `out` and returns the KL term.
torch::Tensor Distill(const torch::Tensor& teacher, const torch::Tensor& student,
                      ExampleLoss* out) {
  const torch::Tensor p = teacher.exp();
  const torch::Tensor kl = (p * (teacher - student)).sum(-1).mean();
  out->kl = kl.item<double>();
  torch::NoGradGuard no_grad;
  out->entropy = -(student.exp() * student).sum(-1).mean().item<double>();
  out->first_token = student[0].argmax().item<int64_t>();
  out->teacher_first_token = teacher[0].argmax().item<int64_t>();
  return kl;
}

agent::node::ReadPrompt ChatPrompt(const std::string& instruction) {
  agent::node::ReadPrompt p;
  p.chat = true;
  p.instruction = instruction;
  return p;
}

template <typename T>
const T& Pick(const std::vector<T>& pool, std::mt19937_64* rng) {
  return pool[std::uniform_int_distribution<size_t>(0, pool.size() - 1)(*rng)];
}

}  // namespace

const char* InstructionName(Instruction instruction) {
  switch (instruction) {
    case Instruction::kAsk:
      return "ask";
    case Instruction::kRestate:
      return "restate";
    case Instruction::kRespond:
      return "respond";
  }
  return "?";
}

const std::vector<std::vector<std::string>>& AskLabelSets() {
  static const auto* sets = new std::vector<std::vector<std::string>>{
      {"positive", "negative"},
      {"sports", "business", "science", "weather"},
      {"question", "request", "complaint", "greeting"},
      {"yes", "no"},
      {"urgent", "routine"},
      {"happy", "sad", "angry", "calm"},
      {"food", "travel", "health", "technology"},
      {"work", "family", "money", "school"},
      {"good", "bad"},
      {"people", "places", "things", "events"},
      {"morning", "evening", "night"},
      {"past", "present", "future"},
      {"computers", "animals", "music", "cars"},
      {"praise", "criticism"},
      {"problem", "solution", "update", "plan"},
      {"home", "office", "outdoors"},
      {"politics", "culture", "science", "sports"},
      {"true", "false"},
      {"formal", "casual"},
      {"safe", "dangerous"},
      {"fact", "opinion"},
      {"news", "review", "instruction", "chat"},
      {"success", "failure"},
      {"weather", "traffic", "shopping", "cooking"},
  };
  return *sets;
}

absl::StatusOr<ExampleLoss> InstructionExample(const Model& receiver, const std::string& text,
                                               const torch::Tensor& soft, Instruction instruction,
                                               const std::vector<std::string>& labels,
                                               const LossWeights& weights, std::mt19937_64* rng,
                                               int respond_tokens, int gold) {
  ExampleLoss out;
  out.instruction = instruction;
  agent::node::ReadPrompt prompt;
  std::vector<int32_t> continuation;
  switch (instruction) {
    case Instruction::kAsk:
      prompt = eval::ClassifyPrompt(labels);
      break;
    case Instruction::kRestate: {
      prompt = ChatPrompt("Repeat the message word for word.");
      absl::StatusOr<agent::llm::EncodeResult> ids = receiver.Tokenize(text, /*add_bos=*/false);
      if (!ids.ok()) return ids.status();
      continuation = ids->token_ids;
      break;
    }
    case Instruction::kRespond: {
      prompt = ChatPrompt(Pick(RespondQuestions(), rng));
      absl::StatusOr<std::vector<PromptSegment>> read = Segments(receiver, prompt, &text, 0);
      if (!read.ok()) return read.status();
      agent::llm::GenerateOptions g;
      g.max_new_tokens = respond_tokens;
      g.add_bos = false;
      absl::StatusOr<agent::llm::GenerateResult> reply = receiver.Generate(*read, g);
      if (!reply.ok()) return reply.status();
      continuation = reply->tokens;
      break;
    }
  }
  torch::Tensor teacher;
  {
    torch::NoGradGuard no_grad;
    absl::StatusOr<torch::Tensor> t = LogProbs(receiver, prompt, &text, nullptr, continuation);
    if (!t.ok()) return t.status();
    teacher = *std::move(t);
  }
  absl::StatusOr<torch::Tensor> student = LogProbs(receiver, prompt, nullptr, &soft, continuation);
  if (!student.ok()) return student.status();
  out.loss = weights.kl * Distill(teacher, *student, &out);
  if (instruction == Instruction::kRestate && !continuation.empty()) {
    const torch::Tensor targets =
        torch::tensor(std::vector<int64_t>(continuation.begin(), continuation.end()), torch::kInt64)
            .to(student->device());
    const int64_t c = static_cast<int64_t>(continuation.size());
    const torch::Tensor ce = torch::nll_loss(student->narrow(0, 0, c), targets);
    out.ce = ce.item<double>();
    out.loss = out.loss + weights.restate * ce;
  }
  if (gold >= 0) {
    if (instruction != Instruction::kAsk || gold >= static_cast<int>(labels.size())) {
      return absl::InvalidArgumentError("a gold label needs the ask instruction and its labels");
    }
    std::vector<int64_t> ids;
    for (const std::string& label : labels) {
      absl::StatusOr<agent::llm::EncodeResult> t =
          receiver.Tokenize(" " + label, /*add_bos=*/false);
      if (!t.ok()) return t.status();
      if (t->token_ids.empty()) return absl::InvalidArgumentError("empty label");
      if (std::find(ids.begin(), ids.end(), t->token_ids[0]) != ids.end()) {
        return absl::InvalidArgumentError(absl::StrCat("the labels of '", text.substr(0, 60),
                                                       "' share a first token in ",
                                                       receiver.info().model_id));
      }
      ids.push_back(t->token_ids[0]);
    }
    const torch::Tensor scores =
        (*student)[0].index_select(0, torch::tensor(ids, torch::kInt64).to(student->device()));
    const torch::Tensor ce = -torch::log_softmax(scores, 0)[gold];
    out.ce = ce.item<double>();
    out.loss = out.loss + weights.label * ce;
  }
  return out;
}

absl::StatusOr<ExampleLoss> GeneralExample(const Model& receiver, const std::string& text,
                                           const torch::Tensor& soft, const LossWeights& weights,
                                           std::mt19937_64* rng, int respond_tokens) {
  const double u = std::uniform_real_distribution<double>(0, 1)(*rng);
  const Instruction instruction =
      u < 0.45 ? Instruction::kAsk : (u < 0.8 ? Instruction::kRestate : Instruction::kRespond);
  std::vector<std::string> labels = Pick(AskLabelSets(), rng);
  std::shuffle(labels.begin(), labels.end(), *rng);
  return InstructionExample(receiver, text, soft, instruction, labels, weights, rng,
                            respond_tokens);
}

absl::StatusOr<ExampleLoss> TaskExample(const Model& receiver, const eval::LabelledItem& item,
                                        const torch::Tensor& soft, const LossWeights& weights) {
  const auto it = std::find(item.labels.begin(), item.labels.end(), item.label);
  if (it == item.labels.end()) return absl::InvalidArgumentError("label not among the labels");
  LossWeights task = weights;
  task.kl = weights.kl * 0.5;
  std::mt19937_64 unused(0);  // the ask instruction draws nothing
  return InstructionExample(receiver, item.text, soft, Instruction::kAsk, item.labels, task,
                            &unused, 0, static_cast<int>(it - item.labels.begin()));
}

}  // namespace latentbus::train
