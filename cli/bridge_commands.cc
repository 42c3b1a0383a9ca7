// `latentbus calibrate`, `latentbus bridge fit|eval` and `latentbus bench bridge`:
// calibration corpora to activation files, activation files to bridges, bridges measured.
#include <chrono>
#include <iomanip>
#include <iostream>

#include "agent/llm/model.h"
#include "bridge/bridge.h"
#include "bridge/bridge_bench.h"
#include "bridge/bridge_kind.h"
#include "bridge/corpus.h"
#include "bridge/fidelity.h"
#include "bridge/fit.h"
#include "broker/policy.h"
#include "calibrate/calibrate.h"
#include "cli/commands.h"
#include "cli/model_path.h"
#include "nlohmann/json.hpp"

namespace latentbus::cli {
namespace {

using Clock = std::chrono::steady_clock;

int Fail(const absl::Status& s) {
  std::cerr << "error: " << s.message() << "\n";
  return 1;
}

double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct CalibrateArgs {
  std::string model;
  std::vector<int> layers;
  std::string corpus;
  std::string out;
  size_t limit = 0;
  std::string device = "cpu";
  int threads = 0;
};

int RunCalibrate(const CalibrateArgs& args) {
  absl::StatusOr<std::vector<bridge::CorpusItem>> items =
      bridge::ReadCorpus(args.corpus, args.limit);
  if (!items.ok()) return Fail(items.status());
  std::cerr << "loading " << args.model << " ..." << std::endl;
  agent::llm::LoadOptions options;
  options.device = args.device;
  options.threads = args.threads;
  absl::StatusOr<std::unique_ptr<agent::llm::Model>> model =
      agent::llm::Model::Load(args.model, options);
  if (!model.ok()) return Fail(model.status());
  const auto start = Clock::now();
  calibrate::CalibrateOptions calib;
  calib.layers = args.layers;
  calib.corpus_path = args.corpus;
  calib.progress = [&start](size_t done, size_t total) {
    if (done % 100 == 0 || done == total) {
      std::cerr << "\rcalibrate: " << done << "/" << total << " items, " << std::fixed
                << std::setprecision(1) << static_cast<double>(done) / Since(start) << " items/s"
                << std::flush;
    }
  };
  absl::StatusOr<bridge::ActivationFile> file = calibrate::Calibrate(**model, *items, calib);
  std::cerr << "\n";
  if (!file.ok()) return Fail(file.status());
  const double seconds = Since(start);
  if (absl::Status s = bridge::WriteActivationFile(args.out, *file); !s.ok()) return Fail(s);
  std::cerr << "wrote " << args.out << ": " << file->num_items() << " items, " << file->num_tokens()
            << " tokens, " << std::fixed << std::setprecision(1)
            << static_cast<double>(file->num_items()) / seconds << " items/s, "
            << static_cast<double>(file->num_tokens()) / seconds << " tokens/s\n";
  return 0;
}

struct FitArgs {
  std::string src, dst, kind = "affine", out;
  int layer = -1;
};

int RunFit(const FitArgs& args) {
  absl::StatusOr<bridge::ActivationFile> src = bridge::ReadActivationFile(args.src);
  if (!src.ok()) return Fail(src.status());
  absl::StatusOr<bridge::ActivationFile> dst_storage;
  const bridge::ActivationFile* dst = &*src;
  if (args.dst != args.src) {
    dst_storage = bridge::ReadActivationFile(args.dst);
    if (!dst_storage.ok()) return Fail(dst_storage.status());
    dst = &*dst_storage;
  }
  const int layer = args.layer >= 0 ? args.layer : src->layers.empty() ? 0 : src->layers[0];
  bridge::FitOptions options;
  options.kind = args.kind;
  const auto start = Clock::now();
  absl::StatusOr<bridge::BridgeArtifact> artifact = bridge::FitBridge(*src, *dst, layer, options);
  if (!artifact.ok()) return Fail(artifact.status());
  if (absl::Status s = bridge::WriteBridgeArtifact(args.out, *artifact); !s.ok()) return Fail(s);
  const auto& f = artifact->metadata.fidelity;
  std::cerr << "fitted " << args.kind << " " << src->model_id << "@" << layer << " -> "
            << dst->model_id << " in " << std::fixed << std::setprecision(1) << Since(start)
            << " s; held-out cosine " << std::setprecision(3) << f.at("cosine") << ", word top-1 "
            << f.at("word_top1") << ", sentence top-1 " << f.at("sentence_top1") << "\nwrote "
            << args.out << "\n";
  std::cerr << "the broker's default policy (metric auto): "
            << broker::JudgeBridge({f.begin(), f.end()}, "auto", -1).Describe() << "\n";
  return 0;
}

struct EvalArgs {
  std::string bridge, src, dst, kernels;
  bool json = false;
};

int RunEval(const EvalArgs& args) {
  absl::StatusOr<std::unique_ptr<bridge::Bridge>> b =
      bridge::Bridge::Load(args.bridge, {args.kernels});
  if (!b.ok()) return Fail(b.status());
  absl::StatusOr<bridge::ActivationFile> src = bridge::ReadActivationFile(args.src);
  if (!src.ok()) return Fail(src.status());
  absl::StatusOr<bridge::ActivationFile> dst_storage;
  const bridge::ActivationFile* dst = &*src;
  if (args.dst != args.src) {
    dst_storage = bridge::ReadActivationFile(args.dst);
    if (!dst_storage.ok()) return Fail(dst_storage.status());
    dst = &*dst_storage;
  }
  absl::StatusOr<bridge::Fidelity> f = bridge::EvaluateBridge(**b, *src, *dst);
  if (!f.ok()) return Fail(f.status());
  const bridge::BridgeMetadata& m = (*b)->metadata();
  if (args.json) {
    nlohmann::json j = f->ToMap();
    j["kind"] = m.kind;
    j["src_model_id"] = m.src_model_id;
    j["dst_model_id"] = m.dst_model_id;
    j["layer"] = m.layer;
    j["kernels"] = (*b)->kernels();
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << m.kind << " " << m.src_model_id << "@" << m.layer << " -> " << m.dst_model_id
            << " (held-out, " << (*b)->kernels() << ")\n";
  for (const auto& [key, value] : f->ToMap()) {
    std::cout << "  " << std::left << std::setw(26) << key << value << "\n";
  }
  return 0;
}

struct BenchArgs {
  bridge::BridgeBenchOptions options;
  bool json = false;
};

int RunBench(const BenchArgs& args) {
  absl::StatusOr<std::vector<bridge::BridgeBenchRow>> rows = bridge::RunBridgeBench(args.options);
  if (!rows.ok()) return Fail(rows.status());
  if (args.json) {
    nlohmann::json j = nlohmann::json::array();
    for (const bridge::BridgeBenchRow& r : *rows) {
      j.push_back({{"kind", r.kind},
                   {"kernels", r.kernels},
                   {"threads", args.options.threads},
                   {"src_dim", args.options.src_dim},
                   {"dst_dim", args.options.dst_dim},
                   {"packets", args.options.packets},
                   {"tokens", args.options.tokens},
                   {"device", r.kernels == "cuda" ? args.options.device : std::string("cpu")},
                   {"translations_per_second", r.translations_per_second},
                   {"rows_per_second", r.rows_per_second},
                   {"bridge_gflops", r.bridge_gflops},
                   {"matmul_gflops", r.matmul_gflops},
                   {"ratio", r.ratio},
                   {"vs_blas", r.vs_blas},
                   {"rel_error", r.rel_error}});
    }
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << "bridge " << args.options.src_dim << " -> " << args.options.dst_dim << ", "
            << args.options.packets << " packets x " << args.options.tokens << " tokens per batch, "
            << args.options.threads << " compute thread(s)\n";
  for (const bridge::BridgeBenchRow& r : *rows) {
    std::cout << std::left << std::setw(11) << r.kind << std::setw(11) << r.kernels << std::fixed
              << std::setprecision(0) << r.translations_per_second << " translations/s, "
              << std::setprecision(1) << r.bridge_gflops << " GFLOP/s vs bare float32 matmul "
              << r.matmul_gflops << " GFLOP/s" << (r.kernels == "cuda" ? " on the GPU" : "") << " ("
              << std::setprecision(0) << 100 * r.ratio << "%)";
    if (r.kernels != "blas") {
      std::cout << std::setprecision(2) << ", " << r.vs_blas << "x blas, error "
                << std::setprecision(4) << r.rel_error;
    }
    std::cout << "\n";
  }
  return 0;
}

}  // namespace

void RegisterBridgeCommands(CLI::App& app, RunFn* run) {
  auto calib_args = std::make_shared<CalibrateArgs>();
  CLI::App* calibrate =
      app.add_subcommand("calibrate", "Encode a calibration corpus into an activation file");
  calibrate
      ->add_option("MODEL", calib_args->model,
                   "GGUF file or Hugging Face folder, or a cached model's file name")
      ->required()
      ->transform(ModelPath());
  calibrate->add_option("--layer", calib_args->layers, "Tap layer(s), HF convention")->required();
  calibrate->add_option("--corpus", calib_args->corpus, "Corpus: one item per line")
      ->required()
      ->check(CLI::ExistingFile);
  calibrate->add_option("--out", calib_args->out, "Activation file to write")->required();
  calibrate->add_option("--limit", calib_args->limit, "Use the first N items (0: all)");
  calibrate->add_option("--device", calib_args->device, "cpu, cuda or cuda:N");
  calibrate->add_option("--threads", calib_args->threads, "libtorch threads (0: one per core)");
  calibrate->callback(
      [run, calib_args] { *run = [calib_args] { return RunCalibrate(*calib_args); }; });

  CLI::App* bridge = app.add_subcommand("bridge", "Fit and evaluate bridges between models");
  bridge->require_subcommand(1);
  auto fit_args = std::make_shared<FitArgs>();
  CLI::App* fit = bridge->add_subcommand("fit", "Fit a bridge from two activation files");
  fit->add_option("--src", fit_args->src, "Sender's activation file")
      ->required()
      ->check(CLI::ExistingFile);
  fit->add_option("--dst", fit_args->dst, "Receiver's activation file")
      ->required()
      ->check(CLI::ExistingFile);
  fit->add_option("--kind", fit_args->kind, "self, affine or procrustes")
      ->check(CLI::IsMember(bridge::FittableBridgeKinds()))
      ->capture_default_str();
  fit->add_option("--out", fit_args->out, "Bridge artifact to write")->required();
  fit->add_option("--layer", fit_args->layer, "Source tap layer (default: the file's first)");
  fit->callback([run, fit_args] { *run = [fit_args] { return RunFit(*fit_args); }; });

  auto eval_args = std::make_shared<EvalArgs>();
  CLI::App* eval = bridge->add_subcommand("eval", "Held-out fidelity of a bridge");
  eval->add_option("BRIDGE", eval_args->bridge, "Bridge artifact")
      ->required()
      ->check(CLI::ExistingFile);
  eval->add_option("--src", eval_args->src, "Sender's activation file")
      ->required()
      ->check(CLI::ExistingFile);
  eval->add_option("--dst", eval_args->dst, "Receiver's activation file")
      ->required()
      ->check(CLI::ExistingFile);
  eval->add_option("--kernels", eval_args->kernels,
                   "Products to translate with: blas, int8, auto or an int8 variant (scalar, "
                   "avx2, avx2vnni, avx512, avx512vnni); default: $LATENTBUS_BRIDGE_KERNELS or "
                   "blas");
  eval->add_flag("--json", eval_args->json, "Print JSON");
  eval->callback([run, eval_args] { *run = [eval_args] { return RunEval(*eval_args); }; });
  RegisterBridgeTrain(bridge, run);

  // `bench bridge` joins the bench group when it exists.
  CLI::App* bench = nullptr;
  try {
    bench = app.get_subcommand("bench");
  } catch (const CLI::Error&) {
    bench = app.add_subcommand("bench", "Benchmarks");
  }
  auto bench_args = std::make_shared<BenchArgs>();
  CLI::App* bb = bench->add_subcommand(
      "bridge",
      "Bridge translation throughput (affine, procrustes, adapter) on float32 BLAS and on each "
      "int8 variant this CPU runs, next to a bare matrix multiply of the same shape");
  bb->add_flag("--json", bench_args->json, "Print JSON");
  bb->add_option("--packets", bench_args->options.packets, "Inputs per batch")
      ->capture_default_str();
  bb->add_option("--tokens", bench_args->options.tokens, "Rows per input")->capture_default_str();
  bb->add_option("--src-dim", bench_args->options.src_dim)->capture_default_str();
  bb->add_option("--dst-dim", bench_args->options.dst_dim)->capture_default_str();
  bb->add_option("--min-seconds", bench_args->options.min_seconds, "Per measurement")
      ->capture_default_str();
  bb->add_option("--adapter-rank", bench_args->options.adapter_rank,
                 "Residual width of the synthetic adapter")
      ->capture_default_str();
  bb->add_option("--kernels", bench_args->options.kernels,
                 "Kernels to measure (blas, int8, scalar, avx2, avx2vnni, avx512, avx512vnni); "
                 "repeatable; default: blas and every int8 variant this CPU runs");
  bb->add_option("--threads", bench_args->options.threads,
                 "Compute threads for a translation (the broker's "
                 "translation.compute_threads)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  bb->add_option("--device", bench_args->options.device,
                 "cuda or cuda:N: also translate on that GPU (rows 'cuda', next to the bare "
                 "product on the GPU, error against the CPU's blas row); needs libtorch with CUDA");
  bb->add_option("--artifact", bench_args->options.artifacts,
                 "A bridge file to measure too (e.g. bridges/*.bridge); repeatable")
      ->check(CLI::ExistingFile);
  bb->callback([run, bench_args] { *run = [bench_args] { return RunBench(*bench_args); }; });
}

}  // namespace latentbus::cli
