#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "agent/llm/model.h"
#include "agent/node/message_latent.h"
#include "bridge/activation_file.h"
#include "bridge/bridge.h"
#include "bridge/bridge_artifact.h"
#include "bridge/fidelity.h"
#include "eval/classify_eval.h"
#include "torch_edge/torch_edge.h"
#include "train/adapter.h"
#include "train/objective.h"
#include "train/wire_simulation.h"

namespace latentbus::train {
namespace {

using agent::llm::Model;
using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string Hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// FNV-1a over the files' bytes, in order: names the training data in the provenance.
absl::StatusOr<std::string> DataHash(const std::vector<std::string>& paths) {
  uint64_t h = 1469598103934665603ULL;
  for (const std::string& path : paths) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
    char c;
    while (in.get(c)) {
      h ^= static_cast<unsigned char>(c);
      h *= 1099511628211ULL;
    }
  }
  return Hex64(h);
}

std::string Duration(double seconds) {
  const int s = static_cast<int>(seconds + 0.5);
  if (s >= 3600) return absl::StrCat(s / 3600, "h", (s % 3600) / 60, "m");
  if (s >= 60) return absl::StrCat(s / 60, "m", s % 60, "s");
  return absl::StrCat(s, "s");
}

// The sender's wire latent of each message: hidden states at the tap layer without the
// BOS row, through the codec; computed on first use and kept.
class SenderCache {
 public:
  SenderCache(const Model& sender, int layer, codec::Encoding encoding, int max_tokens)
      : sender_(sender), layer_(layer), encoding_(encoding), max_tokens_(max_tokens) {}

  // Undefined tensor when the message is longer than max_tokens (skipped).
  absl::StatusOr<torch::Tensor> Rows(size_t index, const std::string& text) {
    auto it = rows_.find(index);
    if (it != rows_.end()) return it->second;
    absl::StatusOr<codec::Tensor> wire = agent::node::WireLatent(sender_, text, layer_, encoding_);
    if (!wire.ok()) return wire.status();
    torch::Tensor rows;
    if (static_cast<int>(wire->shape[0]) <= max_tokens_) rows = torch_edge::ToTorch(*wire);
    rows_.emplace(index, rows);
    return rows;
  }

 private:
  const Model& sender_;
  int layer_;
  codec::Encoding encoding_;
  int max_tokens_;
  std::map<size_t, torch::Tensor> rows_;
};

// Mean pairwise cosine of the mean-pooled outputs: near 1 when different messages give
// the same soft tokens (collapse).
double PairwiseCosine(const std::vector<torch::Tensor>& pooled) {
  if (pooled.size() < 2) return 0;
  const torch::Tensor p = torch::nn::functional::normalize(
      torch::stack(pooled), torch::nn::functional::NormalizeFuncOptions().dim(1));
  const torch::Tensor sim = torch::matmul(p, p.t());
  const int64_t n = p.size(0);
  return ((sim.sum() - sim.diagonal().sum()) / static_cast<double>(n * (n - 1))).item<double>();
}

struct Validation {
  double kl = 0, kl_other = 0, kl_zero = 0;
  // Answers equal to the text-reading receiver's (top-1 at the answer position).
  double agreement = 0, agreement_other = 0, agreement_zero = 0;
  int n = 0;
};

nlohmann::json ValidationJson(const Validation& v) {
  return {{"n", v.n},
          {"kl", v.kl},
          {"kl_other_latent", v.kl_other},
          {"kl_zero_latent", v.kl_zero},
          {"ask_agreement", v.agreement},
          {"ask_agreement_other_latent", v.agreement_other},
          {"ask_agreement_zero_latent", v.agreement_zero}};
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ReadMessages(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const std::string& path : paths) {
    std::ifstream in(path);
    if (!in) return absl::NotFoundError(absl::StrCat("cannot read --data ", path));
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") != std::string::npos) out.push_back(line);
    }
  }
  if (out.empty()) return absl::InvalidArgumentError("the --data files hold no message");
  return out;
}

absl::StatusOr<nlohmann::json> TrainBridge(const TrainOptions& o, std::ostream* progress) {
  return torch_edge::Guarded("bridge train", [&]() -> absl::StatusOr<nlohmann::json> {
    if (o.objective != "general" && o.objective != "task") {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown objective '", o.objective, "' (general or task)"));
    }
    if (o.steps < 1) return absl::InvalidArgumentError("--steps must be >= 1");
    if (o.batch < 1) return absl::InvalidArgumentError("--batch must be >= 1");
    if (o.out.empty()) return absl::InvalidArgumentError("--out is required");
    if (!(o.lr > 0)) return absl::InvalidArgumentError("--lr must be > 0");
    absl::StatusOr<codec::Encoding> encoding = codec::ParseEncoding(o.encoding);
    if (!encoding.ok()) return encoding.status();

    // Data.
    std::vector<std::string> texts;
    std::vector<eval::LabelledItem> items;
    const std::vector<std::string>& data_paths = o.objective == "task" ? o.task_data : o.data;
    if (data_paths.empty()) {
      return absl::InvalidArgumentError(o.objective == "task" ? "--task-data is required"
                                                              : "--data is required");
    }
    if (o.objective == "task") {
      for (const std::string& path : o.task_data) {
        absl::StatusOr<std::vector<eval::LabelledItem>> read = eval::ReadLabelledItems(path);
        if (!read.ok()) return read.status();
        items.insert(items.end(), read->begin(), read->end());
      }
      for (const eval::LabelledItem& item : items) texts.push_back(item.text);
    } else {
      absl::StatusOr<std::vector<std::string>> read = ReadMessages(o.data);
      if (!read.ok()) return read.status();
      texts = *std::move(read);
    }
    const size_t heldout =
        std::min<size_t>(static_cast<size_t>(std::max(0, o.heldout)), texts.size() / 5);
    if (texts.size() - heldout < 2) {
      return absl::InvalidArgumentError("too few training messages (need at least 2)");
    }
    absl::StatusOr<std::string> data_hash = DataHash(data_paths);
    if (!data_hash.ok()) return data_hash.status();

    // Models and the starting bridge.
    agent::llm::LoadOptions load;
    load.threads = o.threads;
    load.keep_quantized = false;  // gradients flow through the receiver's float32 weights
    *progress << "train: loading " << o.sender_model << " and " << o.receiver_model << " ...\n";
    absl::StatusOr<std::unique_ptr<Model>> sender = Model::Load(o.sender_model, load);
    if (!sender.ok()) return sender.status();
    absl::StatusOr<std::unique_ptr<Model>> receiver = Model::Load(o.receiver_model, load);
    if (!receiver.ok()) return receiver.status();
    const agent::llm::ModelInfo &si = (*sender)->info(), &ri = (*receiver)->info();

    const std::string checkpoint = o.checkpoint.empty() ? o.out + ".ckpt" : o.checkpoint;
    const bool resuming = o.resume && std::filesystem::exists(checkpoint) &&
                          std::filesystem::exists(checkpoint + ".json");
    absl::StatusOr<bridge::BridgeArtifact> init = bridge::ReadBridgeArtifact(o.init);
    if (!init.ok()) return init.status();
    {
      absl::StatusOr<std::unique_ptr<bridge::Bridge>> b = bridge::Bridge::FromArtifact(*init);
      if (!b.ok()) return b.status();
      if (absl::Status s =
              (*b)->CheckModels(si.model_id, si.fingerprint, ri.model_id, ri.fingerprint);
          !s.ok()) {
        return s;
      }
    }
    if (init->metadata.layer != o.sender_layer) {
      return absl::InvalidArgumentError(absl::StrCat("the starting bridge reads layer ",
                                                     init->metadata.layer, ", not --sender-layer ",
                                                     o.sender_layer));
    }
    absl::StatusOr<Adapter> adapter = init->metadata.kind == "adapter"
                                          ? Adapter::FromArtifact(*init)
                                          : Adapter::FromLinear(*init, o.rank, o.seed);
    if (!adapter.ok()) return adapter.status();

    // One Adam group per tensor, its step scaled to the tensor's natural size at the start
    // (from --init, also when resuming) so that `lr` is a relative step: the map by its
    // own RMS, the residual's output by the receiver's embedding spread.
    const AdapterParameters& p = adapter->parameters();
    const double map_rms = p.map.detach().pow(2).mean().sqrt().item<double>();
    const double dst_rms =
        std::max(1e-6, (p.bias.detach().pow(2).mean().sqrt().item<double>() +
                        map_rms * std::sqrt(static_cast<double>(p.map.size(0)))) /
                           2);
    const std::vector<double> scale = {map_rms, dst_rms, 1.0 / std::sqrt(double(p.map.size(0))),
                                       1.0, dst_rms / std::sqrt(double(adapter->rank()))};
    std::vector<torch::optim::OptimizerParamGroup> groups;
    const std::vector<torch::Tensor> trained = adapter->Trained();
    for (size_t i = 0; i < trained.size(); ++i) {
      groups.emplace_back(std::vector<torch::Tensor>{trained[i]},
                          std::make_unique<torch::optim::AdamOptions>(o.lr * scale[i]));
    }
    torch::optim::Adam optimizer(std::move(groups), torch::optim::AdamOptions(o.lr));

    int start_step = 0;
    double elapsed_before = 0;
    nlohmann::json resumed_losses = nlohmann::json::array();
    if (resuming) {
      std::ifstream in(checkpoint + ".json");
      const nlohmann::json state = nlohmann::json::parse(in, nullptr, false);
      if (state.is_discarded() || !state.contains("step")) {
        return absl::DataLossError(absl::StrCat(checkpoint, ".json: malformed checkpoint state"));
      }
      if (state.value("data_hash", "") != *data_hash || state.value("seed", 0ULL) != o.seed) {
        return absl::FailedPreconditionError(
            "the checkpoint was made with other data or another seed; start afresh without "
            "--resume or point --checkpoint elsewhere");
      }
      absl::StatusOr<bridge::BridgeArtifact> saved = bridge::ReadBridgeArtifact(checkpoint);
      if (!saved.ok()) return saved.status();
      absl::StatusOr<Adapter> restored = Adapter::FromArtifact(*saved);
      if (!restored.ok()) return restored.status();
      {
        torch::NoGradGuard no_grad;
        const std::vector<torch::Tensor> from = restored->Trained();
        for (size_t i = 0; i < trained.size(); ++i) trained[i].copy_(from[i]);
      }
      start_step = state["step"].get<int>();
      if (state.contains("losses") && state["losses"].is_array()) resumed_losses = state["losses"];
      elapsed_before = state.value("seconds", 0.0);
      if (std::filesystem::exists(checkpoint + ".optim")) {
        torch::load(optimizer, checkpoint + ".optim");
      }
      *progress << "train: resuming from " << checkpoint << " at step " << start_step << "\n";
    }

    SenderCache cache(**sender, o.sender_layer, *encoding, o.max_tokens);
    LossWeights weights;

    auto soft_of = [&](size_t index) -> absl::StatusOr<torch::Tensor> {
      absl::StatusOr<torch::Tensor> rows = cache.Rows(index, texts[index]);
      if (!rows.ok() || !rows->defined()) return rows;
      return ThroughWire(adapter->Forward(*rows), *encoding);
    };

    // Held-out messages under the ask instruction: KL to the text-reading receiver for the
    // bridge's latent, for another message's latent and for zero rows (both must be worse:
    // a receiver that ignores the latent scores all three alike).
    auto validate = [&]() -> absl::StatusOr<Validation> {
      torch::NoGradGuard no_grad;
      Validation v;
      std::mt19937_64 unused(0);
      for (size_t i = 0; i < heldout; ++i) {
        absl::StatusOr<torch::Tensor> soft = soft_of(i);
        if (!soft.ok()) return soft.status();
        if (!soft->defined()) continue;
        absl::StatusOr<torch::Tensor> other = soft_of((i + 1) % heldout);
        if (!other.ok()) return other.status();
        if (!other->defined()) continue;
        const std::vector<std::string>& labels =
            o.objective == "task" ? items[i].labels : AskLabelSets()[i % AskLabelSets().size()];
        const auto run = [&](const torch::Tensor& s) {
          return InstructionExample(**receiver, texts[i], s, Instruction::kAsk, labels, weights,
                                    &unused);
        };
        absl::StatusOr<ExampleLoss> a = run(*soft), b = run(*other),
                                    c = run(torch::zeros_like(*soft));
        for (const auto* r : {&a, &b, &c}) {
          if (!r->ok()) return r->status();
        }
        auto agrees = [](const ExampleLoss& l) { return l.first_token == l.teacher_first_token; };
        v.kl += a->kl;
        v.kl_other += b->kl;
        v.kl_zero += c->kl;
        v.agreement += agrees(*a);
        v.agreement_other += agrees(*b);
        v.agreement_zero += agrees(*c);
        ++v.n;
      }
      if (v.n > 0) {
        for (double* x : {&v.kl, &v.kl_other, &v.kl_zero, &v.agreement, &v.agreement_other,
                          &v.agreement_zero}) {
          *x /= v.n;
        }
      }
      return v;
    };
    auto print_validation = [&](const char* when, const Validation& v) {
      *progress << "train: validation " << when << " (" << v.n << " held-out messages, ask): KL "
                << std::fixed << std::setprecision(3) << v.kl << ", answers as from the text "
                << v.agreement << "; another message's latent " << v.kl_other << " / "
                << v.agreement_other << ", zero latent " << v.kl_zero << " / " << v.agreement_zero
                << "\n"
                << std::defaultfloat;
    };

    const auto t0 = Clock::now();
    absl::StatusOr<Validation> before = validate();
    if (!before.ok()) return before.status();
    print_validation("before", *before);

    auto save_checkpoint = [&](int step, double seconds, const nlohmann::json& losses) {
      bridge::BridgeMetadata meta = init->metadata;
      if (absl::Status s = bridge::WriteBridgeArtifact(checkpoint, adapter->ToArtifact(meta));
          !s.ok()) {
        return s;
      }
      torch::save(optimizer, checkpoint + ".optim");
      std::ofstream out(checkpoint + ".json");
      out << nlohmann::json{{"step", step},
                            {"seconds", seconds},
                            {"seed", o.seed},
                            {"data_hash", *data_hash},
                            {"losses", losses}}
                 .dump(2);
      if (!out) return absl::InternalError(absl::StrCat("cannot write ", checkpoint, ".json"));
      return absl::OkStatus();
    };

    nlohmann::json losses = resumed_losses;
    double window_loss = 0, window_kl = 0, window_ce = 0, window_entropy = 0;
    double last_cosine = 0;
    int window_n = 0, window_steps = 0, steps_done = start_step;
    std::set<int64_t> window_first_tokens;
    const size_t train_begin = heldout, train_count = texts.size() - heldout;
    for (int step = start_step; step < o.steps; ++step) {
      const double seconds = elapsed_before + SecondsSince(t0);
      if (o.time_budget_seconds > 0 && seconds >= o.time_budget_seconds) {
        *progress << "train: time budget of " << Duration(o.time_budget_seconds)
                  << " reached at step " << step << "\n";
        break;
      }
      std::seed_seq seq{static_cast<uint64_t>(o.seed), static_cast<uint64_t>(step)};
      std::mt19937_64 rng(seq);
      optimizer.zero_grad();
      std::vector<torch::Tensor> pooled;
      double step_loss = 0;
      for (int b = 0; b < o.batch; ++b) {
        std::optional<size_t> index;
        torch::Tensor soft;
        for (int tries = 0; tries < 16 && !index; ++tries) {
          const size_t i =
              train_begin + std::uniform_int_distribution<size_t>(0, train_count - 1)(rng);
          absl::StatusOr<torch::Tensor> s = soft_of(i);
          if (!s.ok()) return s.status();
          if (s->defined()) {
            index = i;
            soft = *std::move(s);
          }
        }
        if (!index) return absl::InvalidArgumentError("no message fits --max-tokens");
        absl::StatusOr<ExampleLoss> l =
            o.objective == "task" ? TaskExample(**receiver, items[*index], soft, weights)
                                  : GeneralExample(**receiver, texts[*index], soft, weights, &rng);
        if (!l.ok()) return l.status();
        (l->loss / static_cast<double>(o.batch)).backward();
        pooled.push_back(soft.detach().mean(0));
        step_loss += l->loss.item<double>() / o.batch;
        window_kl += l->kl;
        window_ce += l->ce;
        window_entropy += l->entropy;
        window_first_tokens.insert(l->first_token);
        ++window_n;
      }
      optimizer.step();
      window_loss += step_loss;
      ++window_steps;
      steps_done = step + 1;
      last_cosine = PairwiseCosine(pooled);
      if (steps_done % o.log_every == 0 || steps_done == o.steps) {
        const double now = elapsed_before + SecondsSince(t0);
        const double per_step = SecondsSince(t0) / (steps_done - start_step);
        double eta = per_step * (o.steps - steps_done);
        if (o.time_budget_seconds > 0) eta = std::min(eta, o.time_budget_seconds - now);
        const double mean_loss = window_loss / window_steps;
        losses.push_back({{"step", steps_done}, {"loss", mean_loss}});
        const int width = 24, filled = width * steps_done / o.steps;
        *progress << "train: [" << std::string(filled, '#') << std::string(width - filled, '.')
                  << "] step " << steps_done << "/" << o.steps << std::fixed << std::setprecision(3)
                  << " loss " << mean_loss << " (kl " << window_kl / window_n << ", ce "
                  << window_ce / window_n << ") | entropy " << window_entropy / window_n
                  << ", outputs' cosine " << last_cosine << ", " << window_first_tokens.size()
                  << "/" << window_n << " distinct first tokens | " << std::setprecision(1)
                  << per_step << " s/step, " << Duration(now) << " elapsed, ETA "
                  << Duration(std::max(0.0, eta)) << std::defaultfloat
                  << (last_cosine > 0.95 ? "  WARNING: outputs collapsing" : "") << "\n";
        window_loss = window_kl = window_ce = window_entropy = 0;
        window_n = window_steps = 0;
        window_first_tokens.clear();
      }
      if (o.checkpoint_every > 0 && steps_done % o.checkpoint_every == 0) {
        if (absl::Status s = save_checkpoint(steps_done, elapsed_before + SecondsSince(t0), losses);
            !s.ok()) {
          return s;
        }
      }
    }
    const double seconds = elapsed_before + SecondsSince(t0);
    absl::StatusOr<Validation> after = validate();
    if (!after.ok()) return after.status();
    print_validation("after", *after);
    if (absl::Status s = save_checkpoint(steps_done, seconds, losses); !s.ok()) return s;

    bridge::BridgeMetadata meta = init->metadata;
    meta.corpus_hash = *data_hash;
    meta.fit.clear();
    meta.fit["steps"] = steps_done;
    meta.fit["batch"] = o.batch;
    meta.fit["lr"] = o.lr;
    meta.fit["rank"] = static_cast<double>(adapter->rank());
    meta.fit["seconds"] = seconds;
    meta.fit["train_messages"] = static_cast<double>(train_count);
    meta.fidelity.clear();
    if (!o.fidelity_src.empty() || !o.fidelity_dst.empty()) {
      absl::StatusOr<bridge::ActivationFile> a = bridge::ReadActivationFile(o.fidelity_src);
      if (!a.ok()) return a.status();
      absl::StatusOr<bridge::ActivationFile> b = bridge::ReadActivationFile(o.fidelity_dst);
      if (!b.ok()) return b.status();
      absl::StatusOr<std::unique_ptr<bridge::Bridge>> trained_bridge =
          bridge::Bridge::FromArtifact(adapter->ToArtifact(meta));
      if (!trained_bridge.ok()) return trained_bridge.status();
      absl::StatusOr<bridge::Fidelity> f = bridge::EvaluateBridge(**trained_bridge, *a, *b);
      if (!f.ok()) return f.status();
      meta.fidelity = f->ToMap();
      *progress << "train: held-out embedding cosine " << f->cosine << "\n";
    }
    meta.fidelity["ask_agreement"] = after->agreement;
    meta.fidelity["ask_agreement_other_latent"] = after->agreement_other;
    meta.fidelity["ask_agreement_zero_latent"] = after->agreement_zero;
    meta.fidelity["val_kl"] = after->kl;
    meta.fidelity["val_kl_other_latent"] = after->kl_other;
    meta.fidelity["val_kl_zero_latent"] = after->kl_zero;
    meta.fidelity["val_kl_before"] = before->kl;
    meta.provenance = {{"command", o.command},
                       {"objective", o.objective},
                       {"seed", std::to_string(o.seed)},
                       {"data_hash", *data_hash},
                       {"encoding", o.encoding},
                       {"init", init->metadata.kind},
                       {"sender_fingerprint", si.fingerprint},
                       {"receiver_fingerprint", ri.fingerprint},
                       {"date", absl::FormatTime("%Y-%m-%d", absl::Now(), absl::UTCTimeZone())}};
    if (absl::Status s = bridge::WriteBridgeArtifact(o.out, adapter->ToArtifact(meta)); !s.ok()) {
      return s;
    }
    *progress << "train: wrote " << o.out << " after " << steps_done << " steps in "
              << Duration(seconds) << "\n";
    return nlohmann::json{{"command", "latentbus bridge train"},
                          {"out", o.out},
                          {"objective", o.objective},
                          {"steps", steps_done},
                          {"seconds", seconds},
                          {"losses", losses},
                          {"outputs_cosine", last_cosine},
                          {"validation_before", ValidationJson(*before)},
                          {"validation_after", ValidationJson(*after)},
                          {"fidelity", meta.fidelity},
                          {"heldout", heldout},
                          {"train_messages", train_count},
                          {"data_hash", *data_hash}};
  });
}

}  // namespace latentbus::train
