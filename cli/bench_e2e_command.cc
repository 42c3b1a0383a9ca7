// `latentbus bench e2e`: latent path vs text path between the two real models
// (bench/e2e_bench.h).
#include <filesystem>
#include <iostream>
#include <optional>

#include "agent/model_cache/model_cache.h"
#include "bench/e2e_bench.h"
#include "cli/commands.h"
#include "spdlog/spdlog.h"

#ifndef LATENTBUS_SOURCE_DIR
#define LATENTBUS_SOURCE_DIR "."
#endif

namespace latentbus::cli {
namespace {

struct E2EArgs {
  bench::E2EBenchOptions o;
  bool fit = false;
  bool json = false;
};

int RunE2E(E2EArgs args) {
  for (const std::string* m : {&args.o.sender_model, &args.o.receiver_model}) {
    if (!std::filesystem::exists(*m)) {
      std::cerr << "error: model " << *m << " not found (scripts/fetch-models.sh fetches them)\n";
      return 2;
    }
  }
  if (!std::filesystem::exists(args.o.corpus)) {
    args.o.corpus = std::string(LATENTBUS_SOURCE_DIR) + "/data/corpus/corpus.txt";
  }
  // The shipped trained bridges by default, when the default pair is measured.
  const std::string shipped = std::string(LATENTBUS_SOURCE_DIR) + "/bridges";
  if (args.o.bridge_dir.empty() && !args.fit && std::filesystem::is_directory(shipped) &&
      args.o.sender_model == agent::ModelCachePath(agent::kSmolLm2File) &&
      args.o.receiver_model == agent::ModelCachePath(agent::kGemma3File)) {
    args.o.bridge_dir = shipped;
  }
  spdlog::set_level(spdlog::level::warn);
  absl::StatusOr<nlohmann::json> r = bench::RunE2EBench(args.o, &std::cerr);
  if (!r.ok()) {
    std::cerr << "error: " << r.status().ToString() << "\n";
    return 1;
  }
  // On a GPU, then the same on the CPU, in the same run: its figures go beside the device's.
  std::optional<nlohmann::json> cpu;
  if (args.o.device != "cpu") {
    bench::E2EBenchOptions on_cpu = args.o;
    on_cpu.device = "cpu";
    std::cerr << "e2e: the same on the CPU\n";
    absl::StatusOr<nlohmann::json> c = bench::RunE2EBench(on_cpu, &std::cerr);
    if (!c.ok()) {
      std::cerr << "error: on the CPU: " << c.status().ToString() << "\n";
      return 1;
    }
    cpu = *std::move(c);
  }
  if (cpu.has_value()) {
    (*r)["command"] = "latentbus bench e2e --device " + args.o.device;
    (*r)["cpu"] = (*cpu)["lengths"];  // the same lengths on the CPU, this run
  }
  if (args.json) {
    std::cout << r->dump(2) << std::endl;
  } else {
    if (cpu.has_value()) {
      bench::PrintE2EBenchTable(*cpu, std::cout);
      std::cout << "\n";
    }
    bench::PrintE2EBenchTable(*r, std::cout);
  }
  return 0;
}

}  // namespace

void RegisterBenchE2E(CLI::App* bench, RunFn* run) {
  auto args = std::make_shared<E2EArgs>();
  bench::E2EBenchOptions& o = args->o;
  o.sender_model = agent::ModelCachePath(agent::kSmolLm2File);
  o.receiver_model = agent::ModelCachePath(agent::kGemma3File);
  CLI::App* cmd = bench->add_subcommand(
      "e2e",
      "One message between two real models through a real broker: latent path (prefill, "
      "codec, bridge, soft tokens) next to the text path (the sender writes, the receiver "
      "reads), to the receiver's first output token; the bus's own share");
  cmd->add_option("--sender", o.sender_model, "sender model")->capture_default_str();
  cmd->add_option("--receiver", o.receiver_model, "receiver model")->capture_default_str();
  cmd->add_option("--sender-layer", o.sender_layer, "sender tap layer")->capture_default_str();
  cmd->add_option("--receiver-layer", o.receiver_layer, "receiver tap layer (bridge fit)")
      ->capture_default_str();
  cmd->add_option("--lengths", o.lengths, "message lengths in tokens")->capture_default_str();
  cmd->add_option("--reps", o.reps, "timed repetitions per length (one warm-up run first)")
      ->capture_default_str();
  cmd->add_option("--encoding", o.encoding, "sender's latent encoding")->capture_default_str();
  cmd->add_option("--receive-encoding", o.receive_encoding, "encoding delivered to the receiver")
      ->capture_default_str();
  cmd->add_option("--bridges", o.bridge_dir,
                  "folder with the pair's bridge artifacts; default: the trained bridges "
                  "shipped in bridges/ for the default pair, else fit one in the run");
  cmd->add_flag("--fit", args->fit, "fit an affine bridge in the run instead");
  cmd->add_option("--fit-items", o.fit_items, "corpus items for the in-run fit")
      ->capture_default_str();
  cmd->add_option("--corpus", o.corpus, "calibration corpus")->capture_default_str();
  cmd->add_option("--threads", o.threads, "libtorch threads (0: one per core)")
      ->capture_default_str();
  cmd->add_option("--device", o.device,
                  "cpu, cuda or cuda:N: both models and the broker's bridges on that GPU, then "
                  "the same on the CPU (JSON: \"cpu\" holds its lengths); needs libtorch with "
                  "CUDA")
      ->capture_default_str();
  cmd->add_flag("--json", args->json, "print JSON");
  cmd->callback([args, run] { *run = [args] { return RunE2E(*args); }; });
}

}  // namespace latentbus::cli
