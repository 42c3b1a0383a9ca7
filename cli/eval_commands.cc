// `latentbus eval classify` (eval/classify_eval.h).
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "eval/classify_eval.h"

#ifndef LATENTBUS_SOURCE_DIR
#define LATENTBUS_SOURCE_DIR "."
#endif

namespace latentbus::cli {
namespace {

struct ClassifyArgs {
  eval::ClassifyEvalOptions o;
  bool json = false;
};

int RunClassify(ClassifyArgs args) {
  for (const std::string& d : args.o.data) {
    if (!std::filesystem::exists(d)) {
      std::cerr << "error: --data " << d << " not found\n";
      return 2;
    }
  }
  if (!std::filesystem::exists(args.o.corpus)) {
    args.o.corpus = std::string(LATENTBUS_SOURCE_DIR) + "/data/corpus/corpus.txt";
  }
  absl::StatusOr<nlohmann::json> r = eval::RunClassifyEval(args.o, &std::cerr);
  if (!r.ok()) {
    std::cerr << "error: " << r.status().ToString() << "\n";
    return r.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  if (args.json) {
    std::cout << r->dump(2) << std::endl;
  } else {
    eval::PrintClassifyEvalTable(*r, std::cout);
  }
  return 0;
}

}  // namespace

void RegisterEvalCommands(CLI::App& app, RunFn* run) {
  CLI::App* eval_cmd = app.add_subcommand("eval", "Evaluations of what latents carry");
  eval_cmd->require_subcommand(1);
  auto args = std::make_shared<ClassifyArgs>();
  eval::ClassifyEvalOptions& o = args->o;
  CLI::App* cmd = eval_cmd->add_subcommand(
      "classify",
      "Accuracy of a receiver classifying after reading the text, the sender's latent "
      "through the bridge, its own latent through its self bridge, or nothing");
  cmd->add_option("--data", o.data, "JSONL file(s): {text, label, labels} (data/classify/)")
      ->required();
  cmd->add_option("--sender", o.sender_model, "sender model")->required()->check(CLI::ExistingPath);
  cmd->add_option("--receiver", o.receiver_model, "receiver model")
      ->required()
      ->check(CLI::ExistingPath);
  cmd->add_option("--sender-layer", o.sender_layer, "sender tap layer")->capture_default_str();
  cmd->add_option("--receiver-layer", o.receiver_layer, "receiver tap layer (self bridge)")
      ->capture_default_str();
  cmd->add_option("--bridge", o.bridge, "sender -> receiver artifact (default: fit in the run)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--self-bridge", o.self_bridge, "receiver self artifact (default: fit)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--fit-items", o.fit_items, "corpus items for in-run fits")
      ->capture_default_str();
  cmd->add_option("--corpus", o.corpus, "calibration corpus")->capture_default_str();
  cmd->add_option("--encoding", o.encoding, "wire encoding of the latents")->capture_default_str();
  cmd->add_option("--limit", o.limit, "items per file (0 = all)")->capture_default_str();
  cmd->add_option("--threads", o.threads, "libtorch threads (0 = one per core)")
      ->capture_default_str();
  cmd->add_flag("--json", args->json,
                "print JSON (keys text_acc, latent_acc, self_acc, none_acc, n)");
  cmd->callback([args, run] { *run = [args] { return RunClassify(*args); }; });
}

}  // namespace latentbus::cli
