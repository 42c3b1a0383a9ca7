// `latentbus bench ...`: performance figures next to their same-run baselines.
#include <fstream>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "bench/bus_bench.h"
#include "bench/bus_plot.h"
#include "bench/codec_bench.h"
#include "bench/model_bench.h"
#include "cli/commands.h"
#include "codec/encoding.h"

namespace latentbus::cli {
namespace {

struct CodecBenchArgs {
  bool json = false;
  std::vector<std::string> shapes;
  std::vector<std::string> encodings;
  int samples = 7;
  double min_sample_seconds = 0.02;
};

int RunCodecBenchCommand(const CodecBenchArgs& args) {
  bench::CodecBenchOptions options;
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
  bench::ModelBenchOptions options;
};

int RunModelBenchCommand(const ModelBenchArgs& args) {
  agent::llm::LoadOptions load;
  load.device = args.device;
  load.threads = args.threads;
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

struct BusBenchArgs {
  std::vector<std::string> modes = {"request", "direct", "topic"};
  std::string latent = "x576";
  std::string encoding = "int4/g32";
  size_t payload_bytes = 16384;
  size_t text_bytes = 0;
  bool json = false;
  std::string plot;
  bench::BusBenchOptions options;
};

// This process's command line, as given (for the record in the JSON).
std::string CommandLine() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string out;
  for (absl::string_view arg : absl::StrSplit(raw, '\0', absl::SkipEmpty())) {
    if (!out.empty()) out += ' ';
    const bool quote = arg.find_first_of(" \t'\"") != absl::string_view::npos;
    out += quote ? "'" + std::string(arg) + "'" : std::string(arg);
  }
  return out;
}

int RunBusBenchCommand(BusBenchArgs& args) {
  bench::BusBenchOptions& o = args.options;
  o.modes.clear();
  for (const std::string& m : args.modes) {
    for (absl::string_view part : absl::StrSplit(m, ',', absl::SkipEmpty())) {
      absl::StatusOr<bench::BusMode> mode = bench::ParseBusMode(part);
      if (!mode.ok()) {
        std::cerr << "error: " << mode.status().message() << "\n";
        return 2;
      }
      o.modes.push_back(*mode);
    }
  }
  if (args.text_bytes > 0) {
    o.payload.latent = false;
    o.payload.text_bytes = args.text_bytes;
  } else {
    // --latent TxD or xD (rows from --payload-bytes).
    std::vector<std::string> dims = absl::StrSplit(args.latent, 'x');
    uint32_t rows = 0, width = 0;
    if (dims.size() != 2 || (!dims[0].empty() && !absl::SimpleAtoi(dims[0], &rows)) ||
        !absl::SimpleAtoi(dims[1], &width) || width == 0) {
      std::cerr << "error: bad --latent '" << args.latent
                << "': expected ROWSxWIDTH (128x576) or xWIDTH (rows from --payload-bytes)\n";
      return 2;
    }
    absl::StatusOr<codec::Encoding> enc = codec::ParseEncoding(args.encoding);
    if (!enc.ok()) {
      std::cerr << "error: " << enc.status().message() << "\n";
      return 2;
    }
    o.payload.latent = true;
    o.payload.rows = rows;
    o.payload.width = width;
    o.payload.encoding = *enc;
    o.payload.packet_bytes = args.payload_bytes;
  }
  absl::StatusOr<nlohmann::json> result = bench::RunBusBench(o, &std::cerr);
  if (!result.ok()) {
    std::cerr << "error: " << result.status().message() << "\n";
    return 1;
  }
  (*result)["command"] = CommandLine();
  if (!args.plot.empty()) {
    std::ofstream out(args.plot);
    out << bench::BusLatencySvg(*result);
    if (!out) {
      std::cerr << "error: cannot write " << args.plot << "\n";
      return 1;
    }
    std::cerr << "bench bus: wrote " << args.plot << std::endl;
  }
  if (args.json) {
    std::cout << result->dump(2) << std::endl;
  } else {
    bench::PrintBusBenchTable(*result, std::cout);
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
                    "Tensor shapes ROWSxWIDTH (default: 32x576 32x4096 512x4096)");
  codec->add_option("--encoding", args->encodings,
                    "Encodings, e.g. int4/g32, int8/g128+rot, fp16 (default: all, with and "
                    "without rotation)");
  codec->add_option("--samples", args->samples, "Timing samples per case (median is reported)")
      ->check(CLI::Range(1, 1000));
  codec
      ->add_option("--min-sample-seconds", args->min_sample_seconds,
                   "Minimum duration of one timing sample")
      ->check(CLI::Range(0.0001, 10.0));
  codec->callback([args, run] { *run = [args] { return RunCodecBenchCommand(*args); }; });

  auto margs = std::make_shared<ModelBenchArgs>();
  CLI::App* model = bench->add_subcommand(
      "model", "Prefill and decode tokens/s and achieved GFLOP/s next to a bare matrix multiply");
  model->add_option("MODEL", margs->path, "Model: a GGUF file or a Hugging Face folder")
      ->required()
      ->check(CLI::ExistingPath);
  model->add_option("--device", margs->device, "cpu, cuda or cuda:N")->capture_default_str();
  model->add_option("--threads", margs->threads, "libtorch threads (0: one per core)");
  model->add_option("--prefill", margs->options.prefill_tokens, "Prefill lengths")
      ->capture_default_str();
  model->add_option("--decode", margs->options.decode_tokens, "Tokens to decode")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  model->add_flag("--json", margs->json, "Print JSON instead of a table");
  model->callback([margs, run] { *run = [margs] { return RunModelBenchCommand(*margs); }; });

  auto bargs = std::make_shared<BusBenchArgs>();
  CLI::App* bus = bench->add_subcommand(
      "bus",
      "The broker under N simulated agents (direct, topic fan-out, request/reply) next to a "
      "bare gRPC relay and nats-server, same payloads and pattern, same run");
  bus->add_option("--mode", bargs->modes, "Patterns to run, in order (the first is the headline)")
      ->delimiter(',')
      ->capture_default_str();
  bus->add_option("--agents", bargs->options.workload.agents,
                  "Simulated agents (direct/request: pairs, so even; topic: 1 publisher + N-1)")
      ->check(CLI::Range(2, 1024))
      ->capture_default_str();
  bus->add_option("--latent", bargs->latent,
                  "Latent payload shape ROWSxWIDTH (128x576), or xWIDTH to size the rows from "
                  "--payload-bytes")
      ->capture_default_str();
  bus->add_option("--encoding", bargs->encoding, "Latent encoding: int4/g32, int8/g32, fp16, ...")
      ->capture_default_str();
  bus->add_option("--payload-bytes", bargs->payload_bytes,
                  "Latent packet bytes (scales + payload) when --latent gives no rows")
      ->check(CLI::Range(size_t{1}, size_t{64} << 20))
      ->capture_default_str();
  bus->add_option("--text", bargs->text_bytes, "Send a text payload of this many bytes instead")
      ->check(CLI::Range(size_t{1}, size_t{64} << 20));
  bus->add_option("--rate", bargs->options.workload.rate,
                  "Open loop: messages/s over all senders (0: closed loop)")
      ->check(CLI::Range(0.0, 1e7))
      ->capture_default_str();
  bus->add_option("--window", bargs->options.workload.window,
                  "Closed loop: messages in flight per sender")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  bus->add_option("--warmup", bargs->options.workload.warmup_seconds, "Warm-up seconds")
      ->check(CLI::Range(0.0, 600.0))
      ->capture_default_str();
  bus->add_option("--duration", bargs->options.workload.duration_seconds,
                  "Measured seconds per mode and system")
      ->check(CLI::Range(0.01, 3600.0))
      ->capture_default_str();
  bus->add_option("--bridge", bargs->options.bridge_path,
                  "Bridge artifact (bridge/ format) on the broker's path for latents; default: "
                  "an affine bridge fitted in-process on synthetic pairs")
      ->check(CLI::ExistingFile);
  bus->add_option("--receiver-width", bargs->options.receiver_width,
                  "Synthetic bridge: the receiver's width")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  bus->add_option("--broker", bargs->options.broker_address,
                  "Drive this broker (HOST:PORT) instead of an in-process one");
  bus->add_option("--token", bargs->options.token, "Bearer token for --broker");
  bus->add_option("--nats-server", bargs->options.nats_server, "nats-server binary")
      ->capture_default_str();
  bus->add_flag("--no-nats", bargs->options.skip_nats, "Skip the nats-server baseline");
  bus->add_flag("--no-relay", bargs->options.skip_relay, "Skip the bare relay baseline");
  bus->add_option("--translation-threads", bargs->options.translation_threads,
                  "In-process broker: translation worker threads")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  bus->add_option("--translation-compute-threads", bargs->options.translation_compute_threads,
                  "In-process broker: threads one bridge call may use in libtorch/OpenBLAS (0: "
                  "one per core)")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  bus->add_flag("--json", bargs->json, "Print JSON instead of tables");
  bus->add_option("--plot", bargs->plot, "Write an SVG latency chart to this file");
  bus->callback([bargs, run] { *run = [bargs] { return RunBusBenchCommand(*bargs); }; });
  RegisterBenchE2E(bench, run);
}

}  // namespace latentbus::cli
