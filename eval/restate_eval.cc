#include "eval/restate_eval.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iomanip>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "agent/llm/model.h"
#include "agent/node/message_latent.h"
#include "agent/node/prompt.h"
#include "bridge/bridge.h"
#include "codec/encoding.h"

namespace latentbus::eval {
namespace {

using agent::llm::Model;

constexpr char kInstruction[] = "Repeat the message word for word.";

std::vector<std::string> Words(const std::string& text) {
  std::vector<std::string> words;
  std::string w;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      w += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!w.empty()) {
      words.push_back(std::move(w));
      w.clear();
    }
  }
  if (!w.empty()) words.push_back(std::move(w));
  return words;
}

const std::set<std::string>& StopWords() {
  static const auto* stop = new std::set<std::string>{
      "the",   "and",   "for",   "are",   "but",   "not",  "you",   "all",     "any",  "can",
      "had",   "her",   "was",   "one",   "our",   "out",  "has",   "his",     "how",  "its",
      "may",   "who",   "did",   "get",   "him",   "she",  "too",   "use",     "that", "with",
      "have",  "this",  "will",  "your",  "from",  "they", "been",  "were",    "what", "when",
      "there", "their", "which", "would", "about", "into", "than",  "then",    "them", "these",
      "some",  "just",  "also",  "very",  "after", "over", "again", "because", "could"};
  return *stop;
}

absl::StatusOr<std::vector<std::string>> ReadMessages(const std::vector<std::string>& paths,
                                                      size_t limit) {
  std::vector<std::string> out;
  for (const std::string& path : paths) {
    std::ifstream in(path);
    if (!in) return absl::NotFoundError(absl::StrCat("cannot read --data ", path));
    std::string line;
    while (std::getline(in, line)) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      if (line[0] == '{') {
        nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.contains("text") || !j["text"].is_string()) {
          return absl::InvalidArgumentError(absl::StrCat(path, ": a JSON line without text"));
        }
        out.push_back(j["text"].get<std::string>());
      } else {
        out.push_back(line);
      }
    }
  }
  // Spread the limit over the files' messages evenly (files are often one task each).
  if (limit > 0 && out.size() > limit) {
    std::vector<std::string> picked;
    for (size_t i = 0; i < limit; ++i) picked.push_back(out[i * out.size() / limit]);
    out = std::move(picked);
  }
  if (out.empty()) return absl::InvalidArgumentError("no message in --data");
  return out;
}

absl::StatusOr<std::string> Reply(const Model& receiver, std::optional<std::string> text,
                                  std::optional<codec::Tensor> soft, int max_new_tokens) {
  agent::node::ReadPrompt p;
  p.instruction = kInstruction;
  p.text = std::move(text);
  p.soft = std::move(soft);
  absl::StatusOr<std::vector<agent::llm::PromptSegment>> segments =
      agent::node::BuildReadPrompt(receiver, p);
  if (!segments.ok()) return segments.status();
  agent::llm::GenerateOptions g;
  g.max_new_tokens = max_new_tokens;
  g.add_bos = false;
  absl::StatusOr<agent::llm::GenerateResult> r = receiver.Generate(*segments, g);
  if (!r.ok()) return r.status();
  return r->text;
}

}  // namespace

std::vector<std::string> ContentWords(const std::string& text) {
  std::vector<std::string> out;
  for (const std::string& w : Words(text)) {
    const bool digits = std::any_of(w.begin(), w.end(), [](char c) { return std::isdigit(c); });
    if ((w.size() >= 3 || digits) && !StopWords().count(w)) out.push_back(w);
  }
  return out;
}

double ContentRecall(const std::string& message, const std::string& reply) {
  const std::vector<std::string> want = ContentWords(message);
  if (want.empty()) return 1.0;
  const std::vector<std::string> got = Words(reply);
  const std::set<std::string> have(got.begin(), got.end());
  int found = 0;
  for (const std::string& w : want) found += have.count(w) > 0;
  return static_cast<double>(found) / static_cast<double>(want.size());
}

double RougeL(const std::string& candidate, const std::string& reference) {
  const std::vector<std::string> c = Words(candidate), r = Words(reference);
  if (c.empty() || r.empty()) return c.empty() && r.empty() ? 1.0 : 0.0;
  std::vector<std::vector<int>> lcs(c.size() + 1, std::vector<int>(r.size() + 1, 0));
  for (size_t i = 1; i <= c.size(); ++i) {
    for (size_t j = 1; j <= r.size(); ++j) {
      lcs[i][j] =
          c[i - 1] == r[j - 1] ? lcs[i - 1][j - 1] + 1 : std::max(lcs[i - 1][j], lcs[i][j - 1]);
    }
  }
  const double l = lcs[c.size()][r.size()];
  if (l == 0) return 0.0;
  const double precision = l / c.size(), recall = l / r.size();
  return 2 * precision * recall / (precision + recall);
}

absl::StatusOr<nlohmann::json> RunRestateEval(const RestateEvalOptions& o, std::ostream* progress) {
  absl::StatusOr<codec::Encoding> encoding = codec::ParseEncoding(o.encoding);
  if (!encoding.ok()) return encoding.status();
  if (o.bridge.empty()) return absl::InvalidArgumentError("--bridge is required");
  absl::StatusOr<std::vector<std::string>> messages = ReadMessages(o.data, o.limit);
  if (!messages.ok()) return messages.status();
  agent::llm::LoadOptions load;
  load.threads = o.threads;
  *progress << "eval restate: loading models ...\n";
  absl::StatusOr<std::unique_ptr<Model>> sender = Model::Load(o.sender_model, load);
  if (!sender.ok()) return sender.status();
  absl::StatusOr<std::unique_ptr<Model>> receiver = Model::Load(o.receiver_model, load);
  if (!receiver.ok()) return receiver.status();
  nlohmann::json result;
  result["command"] = "latentbus eval restate";
  result["sender"] = {{"model", (*sender)->info().model_id}, {"layer", o.sender_layer}};
  result["receiver"] = {{"model", (*receiver)->info().model_id}};
  result["encoding"] = o.encoding;
  result["instruction"] = kInstruction;
  std::vector<std::pair<std::string, std::unique_ptr<bridge::Bridge>>> bridges;
  std::vector<std::pair<std::string, std::string>> paths = {{"latent", o.bridge}};
  for (const auto& [name, path] : o.compare) paths.emplace_back("latent_" + name, path);
  for (const auto& [name, path] : paths) {
    absl::StatusOr<std::unique_ptr<bridge::Bridge>> b = bridge::Bridge::Load(path);
    if (!b.ok()) return b.status();
    if (absl::Status s =
            (*b)->CheckModels((*sender)->info().model_id, (*sender)->info().fingerprint,
                              (*receiver)->info().model_id, (*receiver)->info().fingerprint);
        !s.ok()) {
      return s;
    }
    if ((*b)->metadata().layer != o.sender_layer) {
      return absl::InvalidArgumentError(absl::StrCat(path, " reads layer ", (*b)->metadata().layer,
                                                     ", not --sender-layer ", o.sender_layer));
    }
    result["bridges"][name] = {{"source", path}, {"kind", (*b)->kind()}};
    bridges.emplace_back(name, *std::move(b));
  }
  std::vector<std::string> conditions = {"text"};
  for (const auto& [name, b] : bridges) conditions.push_back(name);
  conditions.push_back("none");
  result["conditions"] = conditions;

  std::map<std::string, double> recall, rouge_text, rouge_message;
  result["examples"] = nlohmann::json::array();
  std::optional<std::string> none_reply;  // the prompt without a message is the same each time
  for (size_t i = 0; i < messages->size(); ++i) {
    const std::string& message = (*messages)[i];
    absl::StatusOr<codec::Tensor> latent =
        agent::node::WireLatent(**sender, message, o.sender_layer, *encoding);
    if (!latent.ok()) return latent.status();
    std::map<std::string, std::string> replies;
    for (const std::string& c : conditions) {
      absl::StatusOr<std::string> reply;
      if (c == "text") {
        reply = Reply(**receiver, message, std::nullopt, o.max_new_tokens);
      } else if (c == "none") {
        if (!none_reply) {
          absl::StatusOr<std::string> r =
              Reply(**receiver, std::nullopt, std::nullopt, o.max_new_tokens);
          if (!r.ok()) return r.status();
          none_reply = *r;
        }
        reply = *none_reply;
      } else {
        const auto it = std::find_if(bridges.begin(), bridges.end(),
                                     [&c](const auto& b) { return b.first == c; });
        absl::StatusOr<codec::Tensor> soft = it->second->Apply(*latent);
        if (!soft.ok()) return soft.status();
        reply = Reply(**receiver, std::nullopt, *std::move(soft), o.max_new_tokens);
      }
      if (!reply.ok()) return reply.status();
      replies[c] = *std::move(reply);
    }
    for (const std::string& c : conditions) {
      recall[c] += ContentRecall(message, replies[c]);
      rouge_text[c] += RougeL(replies[c], replies["text"]);
      rouge_message[c] += RougeL(replies[c], message);
    }
    if (static_cast<int>(i) < o.examples) {
      nlohmann::json ex = {{"message", message}};
      for (const std::string& c : conditions) ex[c] = replies[c];
      result["examples"].push_back(ex);
    }
    if ((i + 1) % 5 == 0 || i + 1 == messages->size()) {
      *progress << "eval restate: " << (i + 1) << "/" << messages->size()
                << " messages; content-word recall so far:";
      for (const std::string& c : conditions) {
        *progress << " " << c << " " << std::fixed << std::setprecision(2) << recall[c] / (i + 1);
      }
      *progress << std::defaultfloat << "\n";
    }
  }
  const double n = static_cast<double>(messages->size());
  result["n"] = messages->size();
  for (const std::string& c : conditions) {
    result[c] = {{"recall", recall[c] / n},
                 {"rouge_l_vs_text_reply", rouge_text[c] / n},
                 {"rouge_l_vs_message", rouge_message[c] / n}};
  }
  return result;
}

void PrintRestateEvalTable(const nlohmann::json& r, std::ostream& out) {
  out << "latentbus eval restate: sender " << r["sender"]["model"].get<std::string>() << " @ layer "
      << r["sender"]["layer"] << " (" << r["encoding"].get<std::string>() << ") -> receiver "
      << r["receiver"]["model"].get<std::string>() << ", " << r["n"].get<int>() << " messages\n";
  for (const auto& [name, b] : r["bridges"].items()) {
    out << name << ": " << b["source"].get<std::string>() << " (" << b["kind"].get<std::string>()
        << ")\n";
  }
  out << "\n"
      << std::left << std::setw(18) << "condition" << std::right << std::setw(10) << "recall"
      << std::setw(16) << "ROUGE-L/text" << std::setw(16) << "ROUGE-L/msg"
      << "\n"
      << std::fixed << std::setprecision(3);
  for (const std::string& c : r["conditions"].get<std::vector<std::string>>()) {
    out << std::left << std::setw(18) << c << std::right << std::setw(10)
        << r[c]["recall"].get<double>() << std::setw(16)
        << r[c]["rouge_l_vs_text_reply"].get<double>() << std::setw(16)
        << r[c]["rouge_l_vs_message"].get<double>() << "\n";
  }
  out << std::defaultfloat << "\nexamples:\n";
  for (const auto& ex : r["examples"]) {
    out << "  message: " << ex["message"].get<std::string>() << "\n";
    for (const std::string& c : r["conditions"].get<std::vector<std::string>>()) {
      out << "    " << c << ": " << ex[c].get<std::string>() << "\n";
    }
  }
}

}  // namespace latentbus::eval
