#include "eval/classify_eval.h"

#include <cmath>
#include <fstream>
#include <iomanip>
#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/llm/model.h"
#include "agent/node/message_latent.h"
#include "agent/node/prompt.h"
#include "bridge/bridge.h"
#include "bridge/corpus.h"
#include "bridge/fit.h"
#include "calibrate/calibrate.h"
#include "codec/encoding.h"
#include "codec/packet.h"

namespace latentbus::eval {
namespace {

using agent::llm::Model;
using agent::node::WireLatent;

using Item = LabelledItem;

}  // namespace

absl::StatusOr<std::vector<LabelledItem>> ReadLabelledItems(const std::string& path, size_t limit) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read --data ", path));
  std::vector<Item> items;
  std::string line;
  int number = 0;
  while (std::getline(in, line) && (limit == 0 || items.size() < limit)) {
    ++number;
    if (line.empty()) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object() || !j.contains("text") || !j.contains("label") ||
        !j.contains("labels") || !j["labels"].is_array()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", number, ": expected {text, label, labels[, task, id]}"));
    }
    Item item;
    item.task = j.value("task", "classify");
    item.text = j["text"].get<std::string>();
    item.label = j["label"].get<std::string>();
    item.labels = j["labels"].get<std::vector<std::string>>();
    if (std::find(item.labels.begin(), item.labels.end(), item.label) == item.labels.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", number, ": label '", item.label, "' not among its labels"));
    }
    items.push_back(std::move(item));
  }
  if (items.empty()) return absl::InvalidArgumentError(absl::StrCat(path, " holds no item"));
  return items;
}

namespace {

// The bridge at `path`, or one fitted here (kind "self" when src and dst are one model).
absl::StatusOr<std::unique_ptr<bridge::Bridge>> GetBridge(
    const std::string& path, const Model& src, int src_layer, const Model* dst, int dst_layer,
    const ClassifyEvalOptions& o, nlohmann::json* info, std::ostream* progress) {
  if (!path.empty()) {
    absl::StatusOr<std::unique_ptr<bridge::Bridge>> b = bridge::Bridge::Load(path);
    if (!b.ok()) return b.status();
    (*info)["source"] = path;
    (*info)["cosine"] =
        (*b)->metadata().fidelity.count("cosine") ? (*b)->metadata().fidelity.at("cosine") : -1.0;
    return b;
  }
  absl::StatusOr<std::vector<bridge::CorpusItem>> items =
      bridge::ReadCorpus(o.corpus, static_cast<size_t>(o.fit_items));
  if (!items.ok()) return items.status();
  const bool self = dst == nullptr;
  *progress << "eval: fitting " << (self ? "a self" : "an affine") << " bridge on " << items->size()
            << " corpus items ...\n";
  absl::StatusOr<bridge::ActivationFile> a =
      calibrate::Calibrate(src, *items, {{src_layer}, o.corpus, nullptr});
  if (!a.ok()) return a.status();
  absl::StatusOr<bridge::BridgeArtifact> fitted;
  if (self) {
    fitted = bridge::FitBridge(*a, *a, src_layer, {"self"});
  } else {
    absl::StatusOr<bridge::ActivationFile> b =
        calibrate::Calibrate(*dst, *items, {{dst_layer}, o.corpus, nullptr});
    if (!b.ok()) return b.status();
    fitted = bridge::FitBridge(*a, *b, src_layer, {"affine"});
  }
  if (!fitted.ok()) return fitted.status();
  (*info)["source"] = absl::StrCat("fitted in this run on ", items->size(), " corpus items");
  (*info)["cosine"] =
      fitted->metadata.fidelity.count("cosine") ? fitted->metadata.fidelity.at("cosine") : -1.0;
  return bridge::Bridge::FromArtifact(*fitted);
}

// The receiver's choice among `label_ids` after reading `message`.
absl::StatusOr<size_t> Choose(const Model& receiver, const Item& item,
                              const std::vector<int32_t>& label_ids,
                              std::optional<std::string> text, std::optional<codec::Tensor> soft) {
  agent::node::ReadPrompt p = ClassifyPrompt(item.labels);
  if (text) p.text = " " + *text;
  p.soft = std::move(soft);
  absl::StatusOr<std::vector<agent::llm::PromptSegment>> segments =
      agent::node::BuildReadPrompt(receiver, p);
  if (!segments.ok()) return segments.status();
  absl::StatusOr<agent::llm::ForwardResult> f =
      receiver.Forward(*segments, {}, /*all_logits=*/false, /*add_bos=*/false);
  if (!f.ok()) return f.status();
  const size_t vocab = f->logits.shape.back();
  size_t best = 0;
  for (size_t i = 1; i < label_ids.size(); ++i) {
    if (static_cast<size_t>(label_ids[i]) < vocab &&
        f->logits.data[label_ids[i]] > f->logits.data[label_ids[best]]) {
      best = i;
    }
  }
  return best;
}

}  // namespace

agent::node::ReadPrompt ClassifyPrompt(const std::vector<std::string>& labels) {
  agent::node::ReadPrompt p;
  p.chat = false;
  p.primer =
      absl::StrCat("Read the message and answer with one word from: ", absl::StrJoin(labels, ", "),
                   ".\nMessage:");
  p.instruction = "Answer:";
  return p;
}

absl::StatusOr<nlohmann::json> RunClassifyEval(const ClassifyEvalOptions& o,
                                               std::ostream* progress) {
  absl::StatusOr<codec::Encoding> encoding = codec::ParseEncoding(o.encoding);
  if (!encoding.ok()) return encoding.status();
  std::vector<Item> items;
  for (const std::string& path : o.data) {
    absl::StatusOr<std::vector<Item>> read = ReadLabelledItems(path, o.limit);
    if (!read.ok()) return read.status();
    items.insert(items.end(), read->begin(), read->end());
  }
  if (items.empty()) return absl::InvalidArgumentError("no --data given");
  agent::llm::LoadOptions load;
  load.threads = o.threads;
  *progress << "eval: loading models ...\n";
  absl::StatusOr<std::unique_ptr<Model>> sender = Model::Load(o.sender_model, load);
  if (!sender.ok()) return sender.status();
  absl::StatusOr<std::unique_ptr<Model>> receiver = Model::Load(o.receiver_model, load);
  if (!receiver.ok()) return receiver.status();
  nlohmann::json result;
  result["command"] = "latentbus eval classify";
  result["sender"] = {{"model", (*sender)->info().model_id}, {"layer", o.sender_layer}};
  result["receiver"] = {{"model", (*receiver)->info().model_id}, {"layer", o.receiver_layer}};
  result["encoding"] = o.encoding;
  nlohmann::json bridge_info, self_info;
  absl::StatusOr<std::unique_ptr<bridge::Bridge>> cross =
      GetBridge(o.bridge, **sender, o.sender_layer, receiver->get(), o.receiver_layer, o,
                &bridge_info, progress);
  if (!cross.ok()) return cross.status();
  if (absl::Status s =
          (*cross)->CheckModels((*sender)->info().model_id, (*sender)->info().fingerprint,
                                (*receiver)->info().model_id, (*receiver)->info().fingerprint);
      !s.ok()) {
    return s;
  }
  std::unique_ptr<bridge::Bridge> self_bridge;
  if (o.self) {
    absl::StatusOr<std::unique_ptr<bridge::Bridge>> self =
        GetBridge(o.self_bridge, **receiver, o.receiver_layer, nullptr, 0, o, &self_info, progress);
    if (!self.ok()) return self.status();
    self_bridge = *std::move(self);
    result["self_bridge"] = self_info;
  }
  result["bridge"] = bridge_info;
  result["prompt"] =
      "Read the message and answer with one word from: {labels}.\\nMessage:{message}\\nAnswer:";

  // Every extra bridge is checked like the main one, then read in the same run.
  std::vector<std::pair<std::string, std::unique_ptr<bridge::Bridge>>> extra;
  for (const auto& [name, path] : o.compare) {
    nlohmann::json info;
    absl::StatusOr<std::unique_ptr<bridge::Bridge>> b = GetBridge(
        path, **sender, o.sender_layer, receiver->get(), o.receiver_layer, o, &info, progress);
    if (!b.ok()) return b.status();
    if (absl::Status s =
            (*b)->CheckModels((*sender)->info().model_id, (*sender)->info().fingerprint,
                              (*receiver)->info().model_id, (*receiver)->info().fingerprint);
        !s.ok()) {
      return s;
    }
    info["kind"] = (*b)->kind();
    result["compare"][name] = info;
    extra.emplace_back(name, *std::move(b));
  }
  result["bridge"]["kind"] = (*cross)->kind();

  // Conditions in table order. "other": the previous item's latent through the main bridge;
  // "zero": zero rows of the latent's shape. Both must fall to the prior when the receiver
  // reads the latent rather than its presence.
  std::vector<std::string> conditions = {"text", "latent"};
  for (const auto& [name, b] : extra) conditions.push_back("latent_" + name);
  if (self_bridge != nullptr) conditions.push_back("self");
  if (o.controls) {
    conditions.push_back("other");
    conditions.push_back("zero");
  }
  conditions.push_back("none");
  struct Counts {
    int n = 0;
    std::map<std::string, int> correct;
    double chance = 0;
  };
  std::map<std::string, Counts> per_task;
  Counts all;
  // Paired outcomes against text, per latent condition: (text right, latent wrong) and
  // (text wrong, latent right).
  std::map<std::string, std::pair<int, int>> discordant;
  std::map<std::string, std::vector<int32_t>> label_ids_cache;
  std::optional<codec::Tensor> previous;
  for (size_t i = 0; i < items.size(); ++i) {
    const Item& item = items[i];
    const std::string key = absl::StrJoin(item.labels, "|");
    auto cached = label_ids_cache.find(key);
    if (cached == label_ids_cache.end()) {
      std::vector<int32_t> ids;
      for (const std::string& l : item.labels) {
        absl::StatusOr<agent::llm::EncodeResult> t = (*receiver)->Tokenize(" " + l, false);
        if (!t.ok()) return t.status();
        if (t->token_ids.empty()) return absl::InvalidArgumentError("empty label");
        if (std::find(ids.begin(), ids.end(), t->token_ids[0]) != ids.end()) {
          return absl::InvalidArgumentError(absl::StrCat("labels ", key, " share a first token in ",
                                                         (*receiver)->info().model_id));
        }
        ids.push_back(t->token_ids[0]);
      }
      cached = label_ids_cache.emplace(key, ids).first;
    }
    const std::vector<int32_t>& ids = cached->second;
    const size_t gold =
        std::find(item.labels.begin(), item.labels.end(), item.label) - item.labels.begin();
    absl::StatusOr<codec::Tensor> latent =
        WireLatent(**sender, item.text, o.sender_layer, *encoding);
    if (!latent.ok()) return latent.status();
    std::map<std::string, std::optional<codec::Tensor>> soft;  // nullopt: no message
    std::map<std::string, std::optional<std::string>> text;
    text["text"] = item.text;
    soft["none"] = std::nullopt;
    absl::StatusOr<codec::Tensor> translated = (*cross)->Apply(*latent);
    if (!translated.ok()) return translated.status();
    soft["latent"] = *translated;
    for (const auto& [name, b] : extra) {
      absl::StatusOr<codec::Tensor> t = b->Apply(*latent);
      if (!t.ok()) return t.status();
      soft["latent_" + name] = *std::move(t);
    }
    if (self_bridge != nullptr) {
      absl::StatusOr<codec::Tensor> own =
          WireLatent(**receiver, item.text, o.receiver_layer, *encoding);
      if (!own.ok()) return own.status();
      absl::StatusOr<codec::Tensor> own_translated = self_bridge->Apply(*own);
      if (!own_translated.ok()) return own_translated.status();
      soft["self"] = *std::move(own_translated);
    }
    if (o.controls) {
      soft["other"] = previous.value_or(*translated);
      codec::Tensor zero = *translated;
      std::fill(zero.data.begin(), zero.data.end(), 0.0f);
      soft["zero"] = std::move(zero);
    }
    previous = *translated;
    std::map<std::string, bool> right;
    for (const std::string& c : conditions) {
      absl::StatusOr<size_t> choice = c == "text"
                                          ? Choose(**receiver, item, ids, item.text, std::nullopt)
                                          : Choose(**receiver, item, ids, std::nullopt, soft[c]);
      if (!choice.ok()) return choice.status();
      right[c] = *choice == gold;
    }
    for (Counts* counts : {&all, &per_task[item.task]}) {
      ++counts->n;
      for (const std::string& c : conditions) counts->correct[c] += right[c];
      counts->chance += 1.0 / static_cast<double>(item.labels.size());
    }
    for (const std::string& c : conditions) {
      if (c.rfind("latent", 0) != 0) continue;
      if (right["text"] && !right[c]) ++discordant[c].first;
      if (!right["text"] && right[c]) ++discordant[c].second;
    }
    if ((i + 1) % 25 == 0 || i + 1 == items.size()) {
      *progress << "eval: " << (i + 1) << "/" << items.size() << " items; correct:";
      for (const std::string& c : conditions) *progress << " " << c << " " << all.correct[c];
      *progress << "\n";
    }
  }
  auto fill = [&conditions](nlohmann::json& j, const Counts& c) {
    j["n"] = c.n;
    for (const std::string& name : conditions) {
      j[name + "_acc"] = c.n > 0 ? static_cast<double>(c.correct.at(name)) / c.n : 0.0;
    }
    j["chance"] = c.n > 0 ? c.chance / c.n : 0.0;
  };
  fill(result, all);
  result["conditions"] = conditions;
  result["tasks"] = nlohmann::json::object();
  for (const auto& [task, c] : per_task) fill(result["tasks"][task], c);
  for (const auto& [c, d] : discordant) {
    result["significance"][c] = {{"text_only", d.first},
                                 {"latent_only", d.second},
                                 {"mcnemar_p", McNemarExactP(d.first, d.second)}};
  }
  return result;
}

double McNemarExactP(int b, int c) {
  const int n = b + c;
  if (n == 0) return 1.0;
  const int k = std::min(b, c);
  // Two-sided exact binomial test of k successes in n trials at p = 1/2.
  double tail = 0;
  for (int i = 0; i <= k; ++i) {
    tail += std::exp(std::lgamma(n + 1.0) - std::lgamma(i + 1.0) - std::lgamma(n - i + 1.0) -
                     n * std::log(2.0));
  }
  return std::min(1.0, 2 * tail);
}

void PrintClassifyEvalTable(const nlohmann::json& r, std::ostream& out) {
  out << "latentbus eval classify: sender " << r["sender"]["model"].get<std::string>()
      << " @ layer " << r["sender"]["layer"] << " (" << r["encoding"].get<std::string>()
      << ") -> receiver " << r["receiver"]["model"].get<std::string>() << "\n"
      << "bridge (latent): " << r["bridge"]["source"].get<std::string>() << ", "
      << r["bridge"]["kind"].get<std::string>() << ", cosine " << r["bridge"]["cosine"] << "\n";
  if (r.contains("compare")) {
    for (const auto& [name, info] : r["compare"].items()) {
      out << "bridge (latent_" << name << "): " << info["source"].get<std::string>() << ", "
          << info["kind"].get<std::string>() << ", cosine " << info["cosine"] << "\n";
    }
  }
  if (r.contains("self_bridge")) {
    out << "self bridge: " << r["self_bridge"]["source"].get<std::string>() << ", cosine "
        << r["self_bridge"]["cosine"] << "\n";
  }
  out << "\n";
  const auto conditions = r["conditions"].get<std::vector<std::string>>();
  out << std::left << std::setw(12) << "task" << std::right << std::setw(6) << "n";
  for (const std::string& c : conditions) out << std::setw(std::max<int>(8, c.size() + 2)) << c;
  out << std::setw(8) << "chance"
      << "\n"
      << std::fixed << std::setprecision(3);
  auto row = [&](const std::string& name, const nlohmann::json& j) {
    out << std::left << std::setw(12) << name << std::right << std::setw(6) << j["n"].get<int>();
    for (const std::string& c : conditions) {
      out << std::setw(std::max<int>(8, c.size() + 2)) << j[c + "_acc"].get<double>();
    }
    out << std::setw(8) << j["chance"].get<double>() << "\n";
  };
  for (const auto& [task, j] : r["tasks"].items()) row(task, j);
  row("all", r);
  if (r.contains("significance")) {
    out << "\nlatent vs text, paired (McNemar exact): ";
    for (const auto& [c, j] : r["significance"].items()) {
      out << c << ": text-only right " << j["text_only"].get<int>() << ", latent-only right "
          << j["latent_only"].get<int>() << ", p = " << std::setprecision(4)
          << j["mcnemar_p"].get<double>() << "; ";
    }
    out << "\n";
  }
  out << std::defaultfloat;
}

}  // namespace latentbus::eval
