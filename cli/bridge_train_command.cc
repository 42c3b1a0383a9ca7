// `latentbus bridge train`: an adapter bridge trained through the frozen receiver
// (train/trainer.h).
#include <iostream>
#include <map>

#include "absl/strings/str_join.h"
#include "broker/policy.h"
#include "cli/commands.h"
#include "cli/model_path.h"
#include "train/trainer.h"

namespace latentbus::cli {

void RegisterBridgeTrain(CLI::App* bridge, RunFn* run) {
  auto o = std::make_shared<train::TrainOptions>();
  auto json = std::make_shared<bool>(false);
  CLI::App* t = bridge->add_subcommand(
      "train",
      "Train an adapter bridge through the frozen receiver, starting from a linear bridge");
  t->add_option("--sender", o->sender_model, "Sender model (GGUF file or HF folder)")
      ->required()
      ->transform(ModelPath());
  t->add_option("--receiver", o->receiver_model, "Receiver model (GGUF file or HF folder)")
      ->required()
      ->transform(ModelPath());
  t->add_option("--sender-layer", o->sender_layer, "Sender's tap layer")->capture_default_str();
  t->add_option("--init", o->init,
                "Bridge to start from: affine/procrustes for these models and layer, or an "
                "adapter to train further")
      ->required()
      ->check(CLI::ExistingFile);
  t->add_option("--objective", o->objective,
                "general (behave as when reading the text) or task (label cross-entropy)")
      ->check(CLI::IsMember({"general", "task"}))
      ->capture_default_str();
  t->add_option("--data", o->data, "Messages, one per line (general objective); repeatable")
      ->check(CLI::ExistingFile);
  t->add_option("--task-data", o->task_data,
                "Labelled JSONL {text, label, labels} (task objective); repeatable. Must share "
                "no item with any evaluation file")
      ->check(CLI::ExistingFile);
  t->add_option("--steps", o->steps, "Optimizer steps")->capture_default_str();
  t->add_option("--time-budget", o->time_budget_seconds,
                "Stop after this many seconds as well (0: no limit)")
      ->capture_default_str();
  t->add_option("--batch", o->batch, "Examples per step")->capture_default_str();
  t->add_option("--lr", o->lr, "Relative step size")->capture_default_str();
  t->add_option("--rank", o->rank, "Width of the residual perceptron")->capture_default_str();
  t->add_option("--seed", o->seed, "Seed (the run is deterministic for a seed)")
      ->capture_default_str();
  t->add_option("--encoding", o->encoding, "Wire encoding simulated on both hops")
      ->capture_default_str();
  t->add_option("--max-tokens", o->max_tokens, "Skip messages of more sender tokens")
      ->capture_default_str();
  t->add_option("--heldout", o->heldout, "Leading messages kept for validation")
      ->capture_default_str();
  t->add_option("--out", o->out, "Adapter artifact to write")->required();
  t->add_option("--fidelity-src", o->fidelity_src,
                "Sender's activation file (latentbus calibrate): records the held-out embedding "
                "fidelity too")
      ->check(CLI::ExistingFile);
  t->add_option("--fidelity-dst", o->fidelity_dst,
                "Receiver's activation file, with --fidelity-src")
      ->check(CLI::ExistingFile);
  t->add_option("--checkpoint", o->checkpoint, "Checkpoint path (default: OUT.ckpt)");
  t->add_flag("--resume", o->resume, "Continue from the checkpoint when it exists");
  t->add_option("--checkpoint-every", o->checkpoint_every, "Steps between checkpoints")
      ->capture_default_str();
  t->add_option("--log-every", o->log_every, "Steps between progress lines")->capture_default_str();
  t->add_option("--threads", o->threads, "Compute threads (0: one per core)")
      ->capture_default_str();
  t->add_flag("--json", *json, "Print the summary as JSON on stdout");
  t->callback([run, o, json, t] {
    *run = [o, json, t] {
      if (o->objective == "general" && o->data.empty()) {
        std::cerr << "error: the general objective needs --data\n";
        return 2;
      }
      if (o->objective == "task" && o->task_data.empty()) {
        std::cerr << "error: --objective task needs --task-data\n";
        return 2;
      }
      o->command = "latentbus bridge train";
      for (const auto* opt : t->get_options()) {
        if (opt->count() == 0 || opt->get_name() == "--help") continue;
        const std::string name = opt->get_name(false, true);
        o->command += " " + name.substr(0, name.find(','));
        if (opt->get_expected_min() > 0) {
          for (const std::string& v : opt->as<std::vector<std::string>>()) o->command += " " + v;
        }
      }
      absl::StatusOr<nlohmann::json> r = train::TrainBridge(*o, &std::cerr);
      if (!r.ok()) {
        if (*json) {
          std::cout << nlohmann::json{{"error", std::string(r.status().message())}}.dump() << "\n";
        }
        std::cerr << "error: " << r.status().message() << "\n";
        return 1;
      }
      std::map<std::string, double> fidelity;
      const nlohmann::json recorded = r->value("fidelity", nlohmann::json::object());
      for (const auto& [k, v] : recorded.items()) {
        if (v.is_number()) fidelity[k] = v.get<double>();
      }
      const broker::BridgeVerdict verdict = broker::JudgeBridge(fidelity, "auto", -1);
      std::cerr << "the broker's default policy (metric auto): " << verdict.Describe() << "\n";
      (*r)["policy_verdict"] = {{"metric", verdict.metric},
                                {"threshold", verdict.threshold},
                                {"score", verdict.score},
                                {"carries_latents", verdict.carries_latents}};
      if (*json) std::cout << r->dump(2) << "\n";
      return 0;
    };
  });
}

}  // namespace latentbus::cli
