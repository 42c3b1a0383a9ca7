// `latentbus eval classify` (eval/classify_eval.h).
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/model_path.h"
#include "eval/classify_eval.h"
#include "eval/restate_eval.h"

#ifndef LATENTBUS_SOURCE_DIR
#define LATENTBUS_SOURCE_DIR "."
#endif

namespace latentbus::cli {
namespace {

// NAME=PATH pairs of --compare; false (after saying why) when one is malformed.
bool ParseCompare(const std::vector<std::string>& given,
                  std::vector<std::pair<std::string, std::string>>* out) {
  for (const std::string& c : given) {
    const size_t eq = c.find('=');
    if (eq == std::string::npos || eq == 0 || !std::filesystem::exists(c.substr(eq + 1))) {
      std::cerr << "error: --compare wants NAME=PATH with an existing PATH, got '" << c << "'\n";
      return false;
    }
    out->emplace_back(c.substr(0, eq), c.substr(eq + 1));
  }
  return true;
}

struct ClassifyArgs {
  eval::ClassifyEvalOptions o;
  std::vector<std::string> compare;
  bool no_self = false, no_controls = false;
  bool json = false;
};

int RunClassify(ClassifyArgs args) {
  if (!ParseCompare(args.compare, &args.o.compare)) return 2;
  args.o.self = !args.no_self;
  args.o.controls = !args.no_controls;
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

struct RestateArgs {
  eval::RestateEvalOptions o;
  std::vector<std::string> compare;
  bool json = false;
};

int RunRestate(RestateArgs args) {
  if (!ParseCompare(args.compare, &args.o.compare)) return 2;
  absl::StatusOr<nlohmann::json> r = eval::RunRestateEval(args.o, &std::cerr);
  if (!r.ok()) {
    if (args.json) {
      std::cout << nlohmann::json{{"error", std::string(r.status().message())}}.dump() << "\n";
    }
    std::cerr << "error: " << r.status().ToString() << "\n";
    return r.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  if (args.json) {
    std::cout << r->dump(2) << std::endl;
  } else {
    eval::PrintRestateEvalTable(*r, std::cout);
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
  cmd->add_option("--sender", o.sender_model, "sender model")->required()->transform(ModelPath());
  cmd->add_option("--receiver", o.receiver_model, "receiver model")
      ->required()
      ->transform(ModelPath());
  cmd->add_option("--sender-layer", o.sender_layer, "sender tap layer")->capture_default_str();
  cmd->add_option("--receiver-layer", o.receiver_layer, "receiver tap layer (self bridge)")
      ->capture_default_str();
  cmd->add_option("--bridge", o.bridge, "sender -> receiver artifact (default: fit in the run)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--self-bridge", o.self_bridge, "receiver self artifact (default: fit)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--compare", args->compare,
                  "NAME=PATH: another sender -> receiver bridge read in the same run "
                  "(condition latent_NAME); repeatable");
  cmd->add_flag("--no-self", args->no_self, "skip the self-bridge control");
  cmd->add_flag("--no-controls", args->no_controls,
                "skip the controls (another item's latent, zero latents)");
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

  auto rargs = std::make_shared<RestateArgs>();
  eval::RestateEvalOptions& r = rargs->o;
  CLI::App* restate = eval_cmd->add_subcommand(
      "restate",
      "The receiver asked to repeat a message after reading its text, its latent through the "
      "bridge, or nothing: content-word recall and ROUGE-L");
  restate->add_option("--data", r.data, "JSONL {text, ...} or text files (one message a line)")
      ->required()
      ->check(CLI::ExistingFile);
  restate->add_option("--sender", r.sender_model, "sender model")
      ->required()
      ->transform(ModelPath());
  restate->add_option("--receiver", r.receiver_model, "receiver model")
      ->required()
      ->transform(ModelPath());
  restate->add_option("--sender-layer", r.sender_layer, "sender tap layer")->capture_default_str();
  restate->add_option("--bridge", r.bridge, "sender -> receiver artifact")
      ->required()
      ->check(CLI::ExistingFile);
  restate->add_option("--compare", rargs->compare,
                      "NAME=PATH: another bridge read in the same run; repeatable");
  restate->add_option("--encoding", r.encoding, "wire encoding of the latents")
      ->capture_default_str();
  restate->add_option("--limit", r.limit, "messages in all, spread over the files (0 = all)")
      ->capture_default_str();
  restate->add_option("--max-tokens", r.max_new_tokens, "reply length cap")->capture_default_str();
  restate->add_option("--examples", r.examples, "replies shown per condition")
      ->capture_default_str();
  restate->add_option("--threads", r.threads, "compute threads (0 = one per core)")
      ->capture_default_str();
  restate->add_flag("--json", rargs->json, "print JSON");
  restate->callback([rargs, run] { *run = [rargs] { return RunRestate(*rargs); }; });
}

}  // namespace latentbus::cli
