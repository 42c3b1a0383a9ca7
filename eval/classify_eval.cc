#include "eval/classify_eval.h"

#include <fstream>
#include <iomanip>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/llm/model.h"
#include "agent/node/prompt.h"
#include "bridge/bridge.h"
#include "bridge/calibrate.h"
#include "bridge/corpus.h"
#include "bridge/fit.h"
#include "codec/encoding.h"
#include "codec/packet.h"

namespace latentbus::eval {
namespace {

using agent::llm::Model;

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

// Hidden states of `text` at `layer` without the BOS row, through the codec as on the wire.
absl::StatusOr<codec::Tensor> WireLatent(const Model& model, const std::string& text, int layer,
                                         const codec::Encoding& encoding) {
  absl::StatusOr<agent::llm::EncodeResult> e = model.Encode(text, {layer});
  if (!e.ok()) return e.status();
  codec::Tensor h = std::move(e->hidden[0]);
  absl::StatusOr<agent::llm::EncodeResult> bos = model.Tokenize("", true);
  if (!bos.ok()) return bos.status();
  if (!bos->token_ids.empty() && h.shape[0] > 1) {
    h.data.erase(h.data.begin(), h.data.begin() + h.shape[1]);
    h.shape[0] -= 1;
  }
  absl::StatusOr<codec::Packet> packet = codec::Encode(h, encoding);
  if (!packet.ok()) return packet.status();
  return codec::Decode(*packet);
}

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
      bridge::Calibrate(src, *items, {{src_layer}, o.corpus, nullptr});
  if (!a.ok()) return a.status();
  absl::StatusOr<bridge::BridgeArtifact> fitted;
  if (self) {
    fitted = bridge::FitBridge(*a, *a, src_layer, {"self"});
  } else {
    absl::StatusOr<bridge::ActivationFile> b =
        bridge::Calibrate(*dst, *items, {{dst_layer}, o.corpus, nullptr});
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
  absl::StatusOr<std::unique_ptr<bridge::Bridge>> self =
      GetBridge(o.self_bridge, **receiver, o.receiver_layer, nullptr, 0, o, &self_info, progress);
  if (!self.ok()) return self.status();
  result["bridge"] = bridge_info;
  result["self_bridge"] = self_info;
  result["prompt"] =
      "Read the message and answer with one word from: {labels}.\\nMessage:{message}\\nAnswer:";

  struct Counts {
    int n = 0, text = 0, latent = 0, self = 0, none = 0;
    double chance = 0;
  };
  std::map<std::string, Counts> per_task;
  Counts all;
  std::map<std::string, std::vector<int32_t>> label_ids_cache;
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
    absl::StatusOr<codec::Tensor> translated = (*cross)->Apply(*latent);
    if (!translated.ok()) return translated.status();
    absl::StatusOr<codec::Tensor> own =
        WireLatent(**receiver, item.text, o.receiver_layer, *encoding);
    if (!own.ok()) return own.status();
    absl::StatusOr<codec::Tensor> own_translated = (*self)->Apply(*own);
    if (!own_translated.ok()) return own_translated.status();
    absl::StatusOr<size_t> by_text = Choose(**receiver, item, ids, item.text, std::nullopt);
    absl::StatusOr<size_t> by_latent = Choose(**receiver, item, ids, std::nullopt, *translated);
    absl::StatusOr<size_t> by_self = Choose(**receiver, item, ids, std::nullopt, *own_translated);
    absl::StatusOr<size_t> by_none = Choose(**receiver, item, ids, std::nullopt, std::nullopt);
    for (const auto* r : {&by_text, &by_latent, &by_self, &by_none}) {
      if (!r->ok()) return r->status();
    }
    for (Counts* c : {&all, &per_task[item.task]}) {
      ++c->n;
      c->text += *by_text == gold;
      c->latent += *by_latent == gold;
      c->self += *by_self == gold;
      c->none += *by_none == gold;
      c->chance += 1.0 / static_cast<double>(item.labels.size());
    }
    if ((i + 1) % 25 == 0 || i + 1 == items.size()) {
      *progress << "eval: " << (i + 1) << "/" << items.size() << " items; text " << all.text
                << ", latent " << all.latent << ", self " << all.self << ", none " << all.none
                << " correct\n";
    }
  }
  auto acc = [](int k, int n) { return n > 0 ? static_cast<double>(k) / n : 0.0; };
  auto fill = [&acc](nlohmann::json& j, const Counts& c) {
    j["n"] = c.n;
    j["text_acc"] = acc(c.text, c.n);
    j["latent_acc"] = acc(c.latent, c.n);
    j["self_acc"] = acc(c.self, c.n);
    j["none_acc"] = acc(c.none, c.n);
    j["chance"] = c.n > 0 ? c.chance / c.n : 0.0;
  };
  fill(result, all);
  result["tasks"] = nlohmann::json::object();
  for (const auto& [task, c] : per_task) fill(result["tasks"][task], c);
  return result;
}

void PrintClassifyEvalTable(const nlohmann::json& r, std::ostream& out) {
  out << "latentbus eval classify: sender " << r["sender"]["model"].get<std::string>()
      << " @ layer " << r["sender"]["layer"] << " (" << r["encoding"].get<std::string>()
      << ") -> receiver " << r["receiver"]["model"].get<std::string>() << "\n"
      << "bridge: " << r["bridge"]["source"].get<std::string>() << ", cosine "
      << r["bridge"]["cosine"] << "; self bridge: " << r["self_bridge"]["source"].get<std::string>()
      << ", cosine " << r["self_bridge"]["cosine"] << "\n\n";
  out << std::left << std::setw(12) << "task" << std::right << std::setw(6) << "n" << std::setw(8)
      << "text" << std::setw(8) << "latent" << std::setw(8) << "self" << std::setw(8) << "none"
      << std::setw(8) << "chance"
      << "\n"
      << std::fixed << std::setprecision(3);
  auto row = [&out](const std::string& name, const nlohmann::json& j) {
    out << std::left << std::setw(12) << name << std::right << std::setw(6) << j["n"].get<int>()
        << std::setw(8) << j["text_acc"].get<double>() << std::setw(8)
        << j["latent_acc"].get<double>() << std::setw(8) << j["self_acc"].get<double>()
        << std::setw(8) << j["none_acc"].get<double>() << std::setw(8) << j["chance"].get<double>()
        << "\n";
  };
  for (const auto& [task, j] : r["tasks"].items()) row(task, j);
  row("all", r);
}

}  // namespace latentbus::eval
