// `latentbus bench ...`: performance figures next to their same-run baselines.
#include <algorithm>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "bench/codec_bench.h"
#include "bench/codec_device_bench.h"
#include "bench/model_bench.h"
#include "bridge/activation_file.h"
#include "cli/commands.h"
#include "cli/model_path.h"
#include "codec/encoding.h"

namespace latentbus::cli {
namespace {

struct CodecBenchArgs {
  bool json = false;
  std::vector<std::string> shapes;
  std::vector<std::string> encodings;
  int samples = 7;
  double min_sample_seconds = 0.02;
  std::string activations;
  int layer = -1;
  size_t max_rows = 4096;
  std::string device = "cpu";
};

// `bench codec --device cuda`: the same cases through the device codec.
int RunCodecDeviceBenchCommand(const CodecBenchArgs& args, bench::CodecBenchOptions options) {
  bench::CodecDeviceBenchOptions device;
  if (!args.shapes.empty() || options.data.has_value()) device.shapes = options.shapes;
  device.data = std::move(options.data);
  device.data_name = options.data_name;
  device.encodings = options.encodings;
  device.timing = options.timing;
  absl::StatusOr<nlohmann::json> result = bench::RunCodecDeviceBench(device, &std::cerr);
  if (!result.ok()) {
    std::cerr << "error: " << result.status().message() << "\n";
    return 1;
  }
  (*result)["command"] = "latentbus bench codec --device cuda";
  if (args.json) {
    std::cout << result->dump(2) << std::endl;
  } else {
    bench::PrintCodecDeviceBenchTable(*result, std::cout);
  }
  return 0;
}

int RunCodecBenchCommand(const CodecBenchArgs& args) {
  bench::CodecBenchOptions options;
  if (!args.activations.empty()) {
    if (!args.shapes.empty()) {
      std::cerr << "error: --shape and --activations exclude each other (the activation "
                   "file's hidden states have their own shape)\n";
      return 2;
    }
    absl::StatusOr<bridge::ActivationFile> file = bridge::ReadActivationFile(args.activations);
    if (!file.ok()) {
      std::cerr << "error: " << file.status().message() << "\n";
      return 1;
    }
    const int layer = args.layer >= 0 ? args.layer : file->layers.front();
    const int index = file->LayerIndex(layer);
    if (index < 0) {
      std::cerr << "error: " << args.activations << " has no layer " << layer << " (it has "
                << absl::StrJoin(file->layers, ", ") << ")\n";
      return 2;
    }
    const size_t rows = std::min<size_t>(file->num_tokens(), args.max_rows);
    codec::Tensor t;
    t.shape = {static_cast<uint32_t>(rows), static_cast<uint32_t>(file->width)};
    const std::vector<float>& hidden = file->hidden[static_cast<size_t>(index)];
    t.data.assign(hidden.begin(), hidden.begin() + static_cast<ptrdiff_t>(rows * file->width));
    options.data = std::move(t);
    options.data_name = absl::StrCat(file->model_id, " hidden states at layer ", layer, ", ", rows,
                                     " tokens of ", args.activations);
  }
  if (!args.shapes.empty()) {
    options.shapes.clear();
    for (const std::string& s : args.shapes) {
      std::vector<uint32_t> shape;
      for (absl::string_view d : absl::StrSplit(s, 'x')) {
        uint32_t v = 0;
        if (!absl::SimpleAtoi(d, &v) || v == 0) {
          std::cerr << "error: bad --shape '" << s << "': expected ROWSxWIDTH, e.g. 32x576\n";
          return 2;
        }
        shape.push_back(v);
      }
      options.shapes.push_back(shape);
    }
  }
  for (const std::string& e : args.encodings) {
    absl::StatusOr<codec::Encoding> enc = codec::ParseEncoding(e);
    if (!enc.ok()) {
      std::cerr << "error: " << enc.status().message() << "\n";
      return 2;
    }
    options.encodings.push_back(*enc);
  }
  options.timing.samples = args.samples;
  options.timing.min_sample_seconds = args.min_sample_seconds;
  if (args.device == "cuda") return RunCodecDeviceBenchCommand(args, std::move(options));
  absl::StatusOr<nlohmann::json> result = bench::RunCodecBench(options, &std::cerr);
  if (!result.ok()) {
    std::cerr << "error: " << result.status().message() << "\n";
    return 1;
  }
  (*result)["command"] = "latentbus bench codec";
  if (args.json) {
    std::cout << result->dump(2) << std::endl;
  } else {
    bench::PrintCodecBenchTable(*result, std::cout);
  }
  return 0;
}

struct ModelBenchArgs {
  std::string path;
  std::string device = "cpu";
  int threads = 0;
  bool json = false;
  bool float_weights = false;
  bool int8_activations = false;
  bench::ModelBenchOptions options;
};

int RunModelBenchCommand(const ModelBenchArgs& args) {
  agent::llm::LoadOptions load;
  load.device = args.device;
  load.threads = args.threads;
  load.keep_quantized = !args.float_weights;
  load.int8_activations = args.int8_activations;
  std::cerr << "bench model: loading " << args.path << " ..." << std::endl;
  absl::StatusOr<std::unique_ptr<agent::llm::Model>> model =
      agent::llm::Model::Load(args.path, load);
  if (!model.ok()) {
    std::cerr << "error: " << model.status().message() << "\n";
    return 1;
  }
  absl::StatusOr<nlohmann::json> result = bench::RunModelBench(**model, args.options, &std::cerr);
  if (!result.ok()) {
    std::cerr << "error: " << result.status().message() << "\n";
    return 1;
  }
  (*result)["command"] = "latentbus bench model";
  if (args.json) {
    std::cout << result->dump(2) << std::endl;
  } else {
    bench::PrintModelBenchTable(*result, std::cout);
  }
  return 0;
}

}  // namespace

void RegisterBenchCommands(CLI::App& app, RunFn* run) {
  CLI::App* bench =
      app.add_subcommand("bench", "Benchmarks, each next to its baseline measured in the same run");
  bench->require_subcommand(1);

  auto args = std::make_shared<CodecBenchArgs>();
  CLI::App* codec = bench->add_subcommand(
      "codec",
      "Quantize/dequantize throughput per encoding vs memcpy of the same bytes, wire bytes "
      "and reconstruction error");
  codec->add_flag("--json", args->json, "Print JSON instead of a table");
  codec->add_option("--shape", args->shapes,
                    "Synthetic tensor shapes ROWSxWIDTH (default: 32x576 32x4096 512x4096)");
  codec->add_option("--encoding", args->encodings,
                    "Encodings, e.g. int4/g32, int8/g128+rot, fp16+rot64 (default: all, "
                    "without rotation, with +rot and with +rot64)");
  CLI::Option* activations = codec->add_option(
      "--activations", args->activations,
      "Real hidden states instead of synthetic ones: an activation file written by `latentbus "
      "calibrate` (its first --max-rows tokens)");
  codec
      ->add_option("--layer", args->layer,
                   "--activations: the tap layer to read (default: the file's first)")
      ->needs(activations);
  codec->add_option("--max-rows", args->max_rows, "--activations: at most this many tokens")
      ->check(CLI::Range(1, 1 << 20))
      ->needs(activations);
  codec->add_option("--samples", args->samples, "Timing samples per case (median is reported)")
      ->check(CLI::Range(1, 1000));
  codec
      ->add_option("--min-sample-seconds", args->min_sample_seconds,
                   "Minimum duration of one timing sample")
      ->check(CLI::Range(0.0001, 10.0));
  codec
      ->add_option(
          "--device", args->device,
          "cpu, or cuda: the device codec on GPU memory next to a device memcpy, a copy "
          "to the host and the CPU codec (int8/int4 are quantized on the GPU, the float types "
          "go through the host; needs a build with CUDA and a GPU)")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
  codec->callback([args, run] { *run = [args] { return RunCodecBenchCommand(*args); }; });

  auto margs = std::make_shared<ModelBenchArgs>();
  CLI::App* model = bench->add_subcommand(
      "model", "Prefill and decode tokens/s and achieved GFLOP/s next to a bare matrix multiply");
  model
      ->add_option("MODEL", margs->path,
                   "Model: a GGUF file or a Hugging Face folder, or a cached model's file name")
      ->required()
      ->transform(ModelPath());
  model->add_option("--device", margs->device, "cpu, cuda or cuda:N")->capture_default_str();
  model->add_option("--threads", margs->threads, "libtorch threads (0: one per core)");
  model->add_option("--prefill", margs->options.prefill_tokens, "Prefill lengths")
      ->capture_default_str();
  model->add_option("--decode", margs->options.decode_tokens, "Tokens to decode")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  model->add_flag("--float-weights", margs->float_weights,
                  "Dequantize every weight to float32 at load (the runtime before packed "
                  "weights; what bridge training loads) instead of keeping GGUF blocks packed");
  model->add_flag("--int8-activations", margs->int8_activations,
                  "Round decode activations to int8 blocks for the packed weights' integer "
                  "kernels (faster, not exact: LoadOptions::int8_activations)");
  model->add_flag("--json", margs->json, "Print JSON instead of a table");
  model->callback([margs, run] { *run = [margs] { return RunModelBenchCommand(*margs); }; });

  RegisterBenchBus(bench, run);
  RegisterBenchE2E(bench, run);
}

}  // namespace latentbus::cli
