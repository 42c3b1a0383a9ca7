// `latentbus bench bus`: the broker under simulated agents next to a bare gRPC relay and
// nats-server (bench/bus_bench.h).
#include <fstream>
#include <iostream>
#include <iterator>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "bench/bus_bench.h"
#include "bench/bus_plot.h"
#include "bench/bus_report.h"
#include "broker/config.h"
#include "cli/commands.h"
#include "codec/encoding.h"
#include "nats/nats_server_binary.h"

namespace latentbus::cli {
namespace {

struct BusBenchArgs {
  std::vector<std::string> modes = {"request", "direct", "topic"};
  std::string latent = "x576";
  std::string encoding = "int4/g32";
  size_t payload_bytes = 16384;
  size_t text_bytes = 0;
  bool json = false;
  std::string plot;
  std::string durability = "both";
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
  o.cluster.sync_always.clear();
  if (args.durability != "fast") o.cluster.sync_always.push_back(true);
  if (args.durability != "always") o.cluster.sync_always.push_back(false);
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
  // A system that completed nothing is a failed run, not a row of zeros: say why (the
  // refusal reasons) and exit non-zero.
  int status = 0;
  for (const auto& [mode, m] : (*result)["modes"].items()) {
    for (const auto& [system, s] : m["systems"].items()) {
      if (s.value("msgs_per_s", 0.0) > 0) continue;
      status = 1;
      std::cerr << "error: " << system << " completed no message in mode " << mode << " ("
                << s.value("rejects", uint64_t{0})
                << " refused: " << s.value("reject_reasons", nlohmann::json::object()).dump()
                << ", " << s.value("lost", uint64_t{0}) << " lost)\n";
    }
  }
  return status;
}

}  // namespace

void RegisterBenchBus(CLI::App* bench, RunFn* run) {
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
  bus->add_option("--compare-bridge", bargs->options.compare_bridge_path,
                  "A second artifact for the same model pair (with --bridge): its own latentbus "
                  "row in the same run, e.g. the trained adapter next to the affine bridge")
      ->check(CLI::ExistingFile);
  bus->add_option("--receiver-width", bargs->options.receiver_width,
                  "Synthetic bridge: the receiver's width")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  bus->add_option("--broker", bargs->options.broker_address,
                  "Drive this broker (HOST:PORT) instead of an in-process one");
  bus->add_option("--token", bargs->options.token, "Bearer token for --broker");
  bus->add_option("--nats-server", bargs->options.nats_server,
                  "nats-server binary (default: $LATENTBUS_NATS_SERVER, else the pinned " +
                      std::string(nats::kPinnedNatsServerVersion) +
                      " that scripts/install-nats-server.sh installs, else nats-server in PATH)");
  bus->add_flag("--no-nats", bargs->options.skip_nats, "Skip the nats-server baseline");
  bus->add_option("--protocol", bargs->options.protocol,
                  "Stream protocol revision the broker's agents offer: 2 = lean frames (no "
                  "SendResult for requests, replies ack, acks ride on sends), 1 = the original")
      ->check(CLI::Range(1, 2))
      ->capture_default_str();
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
  bus->add_option("--translation-kernels", bargs->options.translation_kernels,
                  "In-process broker: products bridges translate with: auto (int8 where the CPU "
                  "has VNNI), blas, int8, or an int8 variant (scalar, avx2, avx2vnni, avx512, "
                  "avx512vnni)")
      ->check(CLI::IsMember(broker::TranslationKernelNames()))
      ->capture_default_str();
  bus->add_option("--translation-inline-max-tokens", bargs->options.translation_inline_max_tokens,
                  "In-process broker: latents for one receiver with at most this many tokens are "
                  "translated on the receiving thread when nothing is queued and a slot is free "
                  "(0: always on "
                  "the workers)")
      ->check(CLI::Range(0, 1 << 20))
      ->capture_default_str();
  bus->add_option("--cluster", bargs->options.cluster.brokers,
                  "Also the cross-broker path (request and direct modes): N brokers in cluster "
                  "mode over a JetStream cluster, next to one broker and JetStream alone "
                  "(publish -> fetch -> ack), per sync policy; 0: off")
      ->check(CLI::Range(0, 16))
      ->capture_default_str();
  bus->add_option("--cluster-servers", bargs->options.cluster.servers,
                  "--cluster: nats-servers in the JetStream cluster (= stream replicas)")
      ->check(CLI::Range(1, 5))
      ->capture_default_str();
  bus->add_option("--durability", bargs->durability,
                  "--cluster: the servers' sync policy: always (flush before the ack), fast "
                  "(lazy flush) or both")
      ->check(CLI::IsMember({"always", "fast", "both"}))
      ->capture_default_str();
  bus->add_flag("--tracing", bargs->options.tracing,
                "Also the in-process broker tracing 1% and 100% of messages (OTLP/HTTP to a sink "
                "in this process that discards): tracing's cost as ratios to the latentbus row "
                "(tracing off), same run");
  bus->add_flag("--json", bargs->json, "Print JSON instead of tables");
  bus->add_option("--plot", bargs->plot, "Write an SVG latency chart to this file");
  bus->callback([bargs, run] { *run = [bargs] { return RunBusBenchCommand(*bargs); }; });
}

}  // namespace latentbus::cli
