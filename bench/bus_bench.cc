#include "bench/bus_bench.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <iomanip>
#include <memory>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "bench/bench_broker_options.h"
#include "bench/broker_transport.h"
#include "bench/bus_bridge.h"
#include "bench/bus_report.h"
#include "bench/bus_tracing.h"
#include "bench/nats_transport.h"
#include "bench/otlp_sink.h"
#include "bench/relay_server.h"
#include "bench/relay_transport.h"
#include "bridge/bridge_kernels.h"
#include "broker/artifact_bridge.h"
#include "broker/server.h"
#include "codec/cpu_features.h"
#include "codec/packet_proto.h"
#include "grpcpp/grpcpp.h"
#include "latentbus/v1/broker.grpc.pb.h"
#include "nats/nats_server_process.h"
#include "spdlog/spdlog.h"

namespace latentbus::bench {
namespace {

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) {
        return std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
      }
    }
  }
  return "unknown";
}

std::string Today() {
  const std::time_t now = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %Z", std::localtime(&now));
  return buf;
}

v1::ModelSpec Spec(const broker::ModelKey& key, uint32_t width, uint32_t layer,
                   const codec::Encoding& preferred, uint32_t max_rows) {
  v1::ModelSpec spec;
  spec.set_model_id(key.model_id);
  spec.set_fingerprint(key.fingerprint);
  spec.set_family("bench");
  spec.set_hidden_size(width);
  spec.set_embedding_size(width);
  spec.set_tap_layer(layer);
  spec.set_max_soft_tokens(std::max<uint32_t>(max_rows, 512));
  *spec.mutable_preferred_encoding() = codec::EncodingToProto(preferred);
  return spec;
}

// One broker for one run: in-process (with the bridge loaded through the artifact
// loader), or the target given with --broker (the bridge uploaded when possible).
class BrokerUnderTest {
 public:
  // `tracer` (in-process only; null: tracing off) records the broker's spans.
  static absl::StatusOr<std::unique_ptr<BrokerUnderTest>> Start(
      const BusBenchOptions& options, const BenchBridge* bridge, std::ostream* progress,
      std::shared_ptr<telemetry::Tracer> tracer = nullptr) {
    std::unique_ptr<BrokerUnderTest> b(new BrokerUnderTest());
    if (!options.broker_address.empty()) {
      b->address_ = options.broker_address;
      if (bridge != nullptr) b->Upload(*bridge, options.token, progress);
      return b;
    }
    broker::BrokerOptions bo = BenchBrokerOptions();
    bo.config.translation.threads = options.translation_threads;
    bo.config.translation.compute_threads = options.translation_compute_threads;
    bo.config.translation.kernels = options.translation_kernels;
    bo.config.translation.inline_max_tokens = options.translation_inline_max_tokens;
    bo.bridge_loader = broker::ArtifactBridgeLoader(options.translation_kernels);
    bo.tracer = std::move(tracer);
    absl::StatusOr<std::unique_ptr<broker::BrokerServer>> server =
        broker::BrokerServer::Start(std::move(bo));
    if (!server.ok()) return server.status();
    b->server_ = *std::move(server);
    b->address_ = absl::StrCat("127.0.0.1:", b->server_->port());
    if (bridge != nullptr) {
      v1::LoadBridgeRequest request;
      request.set_path(bridge->path());
      absl::StatusOr<broker::BridgeInfo> info = b->server_->broker().bridges().Load(request);
      if (!info.ok()) return info.status();
    }
    return b;
  }

  const std::string& address() const { return address_; }

  // In-process only: the broker's own translation timings for the run.
  nlohmann::json Stats() const {
    nlohmann::json j = nlohmann::json::object();
    if (!server_) return j;
    const std::map<std::string, double> c = server_->broker().metrics().Counters();
    auto get = [&c](const std::string& k) {
      auto it = c.find(k);
      return it == c.end() ? 0.0 : it->second;
    };
    const double batches = get("latentbus_translation_seconds_count");
    const double packets = get("latentbus_translations_total{result=\"ok\"}");
    if (batches > 0) {
      j["translation_batch_mean_us"] = get("latentbus_translation_seconds_sum") / batches * 1e6;
      j["translation_packets_per_batch"] = packets / batches;
      const double translated = packets + get("latentbus_translations_total{result=\"error\"}");
      if (translated > 0) {
        j["translation_inline_share"] = get("latentbus_translations_inline_total") / translated;
      }
    }
    const double residences = get("latentbus_residence_seconds_count");
    if (residences > 0) {
      j["residence_mean_us"] = get("latentbus_residence_seconds_sum") / residences * 1e6;
    }
    return j;
  }

  void Stop() {
    if (server_) server_->Shutdown();
  }

 private:
  BrokerUnderTest() = default;

  void Upload(const BenchBridge& bridge, const std::string& token, std::ostream* progress) {
    std::ifstream in(bridge.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    auto stub =
        v1::Broker::NewStub(grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::LoadBridgeRequest request;
    request.set_artifact(bytes.str());
    request.set_replace(true);
    v1::LoadBridgeResponse response;
    grpc::Status s = stub->LoadBridge(&context, request, &response);
    if (!s.ok() && progress) {
      *progress << "bench bus: warning: LoadBridge on " << address_ << " failed ("
                << s.error_message() << "); latents need the broker to hold the bridge"
                << std::endl;
    }
  }

  std::string address_;
  std::unique_ptr<broker::BrokerServer> server_;
};

struct Setup {
  Payload payload;
  Payload text_payload;  // latent runs only
  v1::ModelSpec sender, receiver;
  std::unique_ptr<BenchBridge> bridge;
  std::unique_ptr<BenchBridge> compare_bridge;  // --compare-bridge
};

absl::StatusOr<Setup> Prepare(const BusBenchOptions& options, std::ostream* progress) {
  Setup s;
  const PayloadSpec& ps = options.payload;
  const codec::Encoding& enc = ps.encoding;
  if (ps.latent) {
    if (!options.bridge_path.empty()) {
      absl::StatusOr<std::unique_ptr<BenchBridge>> b = BenchBridge::FromFile(options.bridge_path);
      if (!b.ok()) return b.status();
      s.bridge = *std::move(b);
    } else {
      if (progress) *progress << "bench bus: fitting a synthetic affine bridge ..." << std::endl;
      absl::StatusOr<std::unique_ptr<BenchBridge>> b = BenchBridge::Synthetic(
          {"smollm2-135m-instruct-q4_1", "synthetic"}, {"gemma-3-270m-q4_k_m", "synthetic"}, 10,
          ps.width, options.receiver_width);
      if (!b.ok()) return b.status();
      s.bridge = *std::move(b);
    }
  }
  if (!options.compare_bridge_path.empty()) {
    if (!ps.latent || options.bridge_path.empty()) {
      return absl::InvalidArgumentError("--compare-bridge needs --bridge and a latent payload");
    }
    absl::StatusOr<std::unique_ptr<BenchBridge>> b =
        BenchBridge::FromFile(options.compare_bridge_path);
    if (!b.ok()) return b.status();
    const broker::BridgeInfo& first = s.bridge->info();
    const broker::BridgeInfo& second = (*b)->info();
    if (!(second.src == first.src) || !(second.dst == first.dst) ||
        second.src_layer != first.src_layer) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the compare bridge translates ", second.src.ToString(), " layer ", second.src_layer,
          " -> ", second.dst.ToString(), ", the bridge ", first.src.ToString(), " layer ",
          first.src_layer, " -> ", first.dst.ToString(), ": they must serve the same pair"));
    }
    s.compare_bridge = *std::move(b);
  }
  const broker::BridgeInfo* info = s.bridge ? &s.bridge->info() : nullptr;
  const uint32_t src_width = info ? info->src_dim : ps.width;
  const uint32_t dst_width = info ? info->dst_dim : options.receiver_width;
  const uint32_t rows = ps.rows != 0 ? ps.rows : RowsForBytes(ps.packet_bytes, src_width, enc);
  s.sender = Spec(info ? info->src : broker::ModelKey{"smollm2-135m-instruct-q4_1", "synthetic"},
                  src_width, info ? info->src_layer : 10, enc, rows);
  s.receiver = Spec(info ? info->dst : broker::ModelKey{"gemma-3-270m-q4_k_m", "synthetic"},
                    dst_width, 0, enc, rows);
  PayloadSpec spec = ps;
  if (ps.latent && info) spec.width = info->src_dim;
  absl::StatusOr<Payload> payload = MakePayload(spec, s.sender);
  if (!payload.ok()) return payload.status();
  s.payload = *std::move(payload);
  if (ps.latent) s.text_payload = TextOfSameSize(s.payload);
  return s;
}

// CPU seconds (user + system) of this process so far: the simulated agents plus the
// in-process relay or broker.
double ProcessCpuSeconds() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec * 1e-6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

// Runs the workload and records the CPU it took per completed message (this process,
// plus `other_cpu`'s process when given: nats-server) and the messages the agents wrote
// and read per completed message, over the whole phase (warm-up included, like the
// completed count).
absl::StatusOr<PhaseResult> MeasuredRun(BusTransport& transport,
                                        const std::vector<BusAgent>& agents, const Workload& w,
                                        const v1::Envelope& payload,
                                        const std::function<double()>& other_cpu,
                                        nlohmann::json* extra) {
  const double cpu0 = ProcessCpuSeconds() + (other_cpu ? other_cpu() : 0.0);
  absl::StatusOr<PhaseResult> r = RunWorkload(transport, agents, w, payload);
  const double cpu = ProcessCpuSeconds() + (other_cpu ? other_cpu() : 0.0) - cpu0;
  if (r.ok() && r->completed_all > 0) {
    (*extra)["cpu_us_per_msg"] = cpu / static_cast<double>(r->completed_all) * 1e6;
    (*extra)["wire_msgs_per_msg"] =
        static_cast<double>(r->wire_messages) / static_cast<double>(r->completed_all);
  }
  return r;
}

// The cluster systems of `options` (none without --cluster), with the settings they take
// from the rest of the options.
ClusterBenchOptions ClusterOptions(const BusBenchOptions& options, const Setup& setup) {
  ClusterBenchOptions c = options.cluster;
  c.nats_server = options.nats_server;
  c.bridge_path = setup.bridge ? setup.bridge->path() : "";
  c.token = options.token;
  c.protocol = options.protocol;
  c.max_payload = setup.payload.envelope_bytes * 2 + 65536;
  return c;
}

absl::StatusOr<PhaseResult> RunSystem(const std::string& system, const BusBenchOptions& options,
                                      const Workload& w, const Setup& setup, nlohmann::json* extra,
                                      std::string* label, std::ostream* progress) {
  const std::vector<BusAgent> agents = PlanAgents(w, setup.sender, setup.receiver);
  if (options.cluster.brokers > 0) {
    const ClusterBenchOptions cluster = ClusterOptions(options, setup);
    for (const ClusterSystem& c : PlanClusterSystems(cluster)) {
      if (c.name != system) continue;
      const v1::Envelope& payload = setup.payload.envelope;
      return RunClusterSystem(
          c, cluster, w, agents,
          [&](BusTransport& transport, const std::function<double()>& server_cpu) {
            return MeasuredRun(transport, agents, w, payload, server_cpu, extra);
          },
          label, extra);
    }
  }
  if (system == kRelay) {
    absl::StatusOr<std::unique_ptr<RelayServer>> relay = RelayServer::Start("127.0.0.1:0");
    if (!relay.ok()) return relay.status();
    RelayTransport transport(absl::StrCat("127.0.0.1:", (*relay)->port()));
    *label = "relay (bare gRPC floor)";
    absl::StatusOr<PhaseResult> r =
        MeasuredRun(transport, agents, w, setup.payload.envelope, nullptr, extra);
    (*relay)->Shutdown();
    return r;
  }
  if (system == kNats) {
    const uint64_t max_payload = setup.payload.envelope_bytes * 2 + 4096;
    absl::StatusOr<std::unique_ptr<nats::NatsServerProcess>> started =
        nats::NatsServerProcess::Start(
            options.nats_server.empty() ? nats::DefaultNatsServer() : options.nats_server,
            max_payload);
    if (!started.ok()) return started.status();
    nats::NatsServerProcess* server = started->get();
    if (server->version().find(absl::StrCat("v", nats::kPinnedNatsServerVersion)) ==
            std::string::npos &&
        progress != nullptr) {
      *progress << "bench bus: warning: " << server->version() << " is not the pinned "
                << nats::kPinnedNatsServerVersion << " (scripts/install-nats-server.sh)\n";
    }
    (*extra)["server"] = server->version();
    *label = server->version().empty() ? "nats-server" : server->version();
    NatsTransport transport(server->url());
    absl::StatusOr<PhaseResult> r = MeasuredRun(
        transport, agents, w, setup.payload.envelope, [server] { return server->CpuSeconds(); },
        extra);
    server->Stop();
    return r;
  }
  const bool text = system == kLatentbusText;
  const BenchBridge* bridge = text                          ? nullptr
                              : system == kLatentbusCompare ? setup.compare_bridge.get()
                                                            : setup.bridge.get();
  // --tracing rows: the same broker, tracing to a sink in this process.
  const TracingRow* tracing = FindTracingRow(system);
  std::unique_ptr<OtlpSink> sink;
  std::shared_ptr<telemetry::Tracer> tracer;
  if (tracing != nullptr) {
    absl::StatusOr<std::unique_ptr<OtlpSink>> started = OtlpSink::Start();
    if (!started.ok()) return started.status();
    sink = *std::move(started);
    absl::StatusOr<std::shared_ptr<telemetry::Tracer>> made = BenchTracer(*tracing, sink->url());
    if (!made.ok()) return made.status();
    tracer = *std::move(made);
  }
  absl::StatusOr<std::unique_ptr<BrokerUnderTest>> broker =
      BrokerUnderTest::Start(options, bridge, progress, tracer);
  if (!broker.ok()) return broker.status();
  BrokerTransport::Options to;
  to.address = (*broker)->address();
  to.token = options.token;
  to.protocol = options.protocol;
  BrokerTransport transport(to);
  *label = tracing  ? std::string(tracing->label)
           : text   ? "latentbus, same bytes as text"
           : bridge ? absl::StrCat("latentbus (+", bridge->info().kind, " bridge)")
                    : "latentbus";
  const v1::Envelope& payload = text ? setup.text_payload.envelope : setup.payload.envelope;
  absl::StatusOr<PhaseResult> r = MeasuredRun(transport, agents, w, payload, nullptr, extra);
  const nlohmann::json stats = (*broker)->Stats();
  for (const auto& [k, v] : stats.items()) (*extra)[k] = v;
  (*broker)->Stop();
  if (tracer) {
    tracer->Shutdown(absl::Seconds(10));  // what the run left in the queue goes out
    AddTracerStats(*tracer, extra);
    (*extra)["sampling"] = tracing->sampling;
    (*extra)["otlp_requests"] = sink->requests();
    (*extra)["otlp_bytes"] = sink->bytes();
  }
  return r;
}

// The first mode's cross-broker figures per sync policy, and the goal: N brokers' p50 at
// most 1.5x JetStream's (in request mode: two JetStream hops).
void SummarizeCluster(const ClusterBenchOptions& c, const nlohmann::json& mode,
                      nlohmann::json* out) {
  const nlohmann::json& sys = mode["systems"];
  nlohmann::json goal = {{"max_vs_jetstream_p50", 1.5}};
  for (bool sync : c.sync_always) {
    const std::string policy = sync ? "always" : "fast";
    const std::string floor = "jetstream_" + policy;
    const std::string one = "latentbus_cluster1_" + policy;
    const std::string n = absl::StrCat("latentbus_cluster", c.brokers, "_", policy);
    if (!sys.contains(floor) || !sys.contains(n) || !sys.contains(one)) continue;
    nlohmann::json p = {{"jetstream_p50_us", sys[floor]["p50_us"]},
                        {"jetstream_p99_us", sys[floor]["p99_us"]},
                        {"jetstream_msgs_per_s", sys[floor]["msgs_per_s"]},
                        {"p50_us", sys[n]["p50_us"]},
                        {"p99_us", sys[n]["p99_us"]},
                        {"msgs_per_s", sys[n]["msgs_per_s"]},
                        {"lost", sys[n]["lost"]},
                        {"one_broker_p50_us", sys[one]["p50_us"]},
                        {"one_broker_msgs_per_s", sys[one]["msgs_per_s"]},
                        {"vs_jetstream_p50", Ratio(sys[n], sys[floor], "p50_us")},
                        {"vs_jetstream_p99", Ratio(sys[n], sys[floor], "p99_us")},
                        {"msgs_per_s_n_vs_1", Ratio(sys[n], sys[one], "msgs_per_s")}};
    goal[absl::StrCat("met_", policy)] =
        sys[n]["msgs_per_s"].get<double>() > 0 && p["vs_jetstream_p50"].get<double>() <= 1.5;
    (*out)["policies"][policy] = std::move(p);
  }
  (*out)["goal"] = std::move(goal);
}

}  // namespace

absl::StatusOr<nlohmann::json> RunBusBench(const BusBenchOptions& options, std::ostream* progress) {
  spdlog::set_level(spdlog::level::warn);
  for (BusMode m : options.modes) {
    Workload w = options.workload;
    w.mode = m;
    if (absl::Status s = ValidateWorkload(w); !s.ok()) return s;
  }
  if (options.modes.empty()) return absl::InvalidArgumentError("no mode to run");
  absl::StatusOr<Setup> setup = Prepare(options, progress);
  if (!setup.ok()) return setup.status();
  if (options.broker_address.empty()) {
    // Process-wide, as `latentbus broker` does at start (after the synthetic fit above).
    broker::TranslationConfig translation;
    translation.compute_threads = options.translation_compute_threads;
    broker::ApplyComputeThreads(translation);
  }

  nlohmann::json result;
  result["machine"] = {{"nproc", std::thread::hardware_concurrency()}, {"cpu", CpuModel()}};
  result["date"] = Today();
  const Payload& p = setup->payload;
  result["payload"] = {{"description", p.description},
                       {"content_bytes", p.content_bytes},
                       {"envelope_bytes", p.envelope_bytes}};
  if (options.payload.latent) {
    result["payload"]["rows"] = p.rows;
    result["payload"]["width"] = setup->sender.hidden_size();
    result["payload"]["encoding"] = codec::EncodingName(options.payload.encoding);
    result["payload"]["text_equivalent_bytes"] = setup->text_payload.content_bytes;
  }
  if (setup->bridge) {
    const broker::BridgeInfo& info = setup->bridge->info();
    result["bridge"] = {{"description", setup->bridge->description()},
                        {"id", info.id},
                        {"kind", info.kind},
                        {"src_dim", info.src_dim},
                        {"dst_dim", info.dst_dim},
                        {"cosine", info.cosine()},
                        {"synthetic", setup->bridge->synthetic()}};
  } else {
    result["bridge"] = nullptr;
  }
  if (setup->compare_bridge) {
    const broker::BridgeInfo& info = setup->compare_bridge->info();
    result["compare_bridge"] = {{"description", setup->compare_bridge->description()},
                                {"id", info.id},
                                {"kind", info.kind},
                                {"src_dim", info.src_dim},
                                {"dst_dim", info.dst_dim},
                                {"cosine", info.cosine()}};
  }
  const Workload& w0 = options.workload;
  result["workload"] = {{"agents", w0.agents},
                        {"loop", w0.rate > 0 ? "open" : "closed"},
                        {"rate", w0.rate},
                        {"window", w0.window},
                        {"warmup_s", w0.warmup_seconds},
                        {"duration_s", w0.duration_seconds}};
  result["broker"] =
      options.broker_address.empty() ? "in-process (loopback)" : options.broker_address;
  result["protocol"] = options.protocol;
  if (options.broker_address.empty()) {
    // The kernels the broker's bridges resolve to (the environment variable included).
    absl::StatusOr<const bridge::Int8MatmulKernels*> kernels = bridge::ResolveBridgeKernels(
        options.translation_kernels, std::getenv(bridge::kBridgeKernelsEnv), true,
        codec::DetectCpuFeatures());
    result["broker_translation"] = {
        {"threads", options.translation_threads},
        {"compute_threads", options.translation_compute_threads},
        {"inline_max_tokens", options.translation_inline_max_tokens},
        {"kernels", !kernels.ok()         ? std::string("invalid")
                    : *kernels == nullptr ? std::string("blas")
                                          : std::string((*kernels)->name)}};
    if (setup->bridge != nullptr && options.payload.latent) {
      absl::StatusOr<double> isolated = setup->bridge->IsolatedTranslationSeconds(
          setup->payload.envelope.latent(), setup->sender, options.payload.encoding,
          options.translation_kernels);
      if (!isolated.ok()) return isolated.status();
      result["broker_translation"]["isolated_us"] = *isolated * 1e6;
    }
  }

  std::vector<std::string> systems;
  if (!options.skip_relay) systems.push_back(kRelay);
  if (!options.skip_nats) systems.push_back(kNats);
  systems.push_back(kLatentbus);
  if (options.tracing) {
    if (!options.broker_address.empty()) {
      return absl::InvalidArgumentError(
          "--tracing measures an in-process broker; it does not take --broker");
    }
    for (const TracingRow& row : TracingRows()) systems.push_back(row.name);
  }
  if (setup->compare_bridge) systems.push_back(kLatentbusCompare);
  if (options.payload.latent) systems.push_back(kLatentbusText);

  std::vector<std::string> cluster_systems;
  if (options.cluster.brokers > 0) {
    if (!options.broker_address.empty()) {
      return absl::InvalidArgumentError(
          "--cluster starts its own brokers and JetStream servers; it does not take --broker");
    }
    for (const ClusterSystem& c : PlanClusterSystems(ClusterOptions(options, *setup))) {
      cluster_systems.push_back(c.name);
    }
    result["cluster"] = {{"brokers", options.cluster.brokers},
                         {"servers", options.cluster.servers},
                         {"policies", nlohmann::json::object()}};
  }

  result["modes"] = nlohmann::json::object();
  result["mode_order"] = nlohmann::json::array();
  for (BusMode mode : options.modes) result["mode_order"].push_back(BusModeName(mode));
  for (BusMode mode : options.modes) {
    Workload w = options.workload;
    w.mode = mode;
    nlohmann::json mode_json;
    mode_json["systems"] = nlohmann::json::object();
    std::vector<std::string> mode_systems = systems;
    // JetStream has no single-hop fan-out to compare a topic with.
    if (mode != BusMode::kTopic) {
      mode_systems.insert(mode_systems.end(), cluster_systems.begin(), cluster_systems.end());
    }
    mode_json["order"] = mode_systems;
    for (const std::string& system : mode_systems) {
      if (progress) {
        *progress << "bench bus: " << BusModeName(mode) << " / " << system << " ..." << std::flush;
      }
      nlohmann::json extra = nlohmann::json::object();
      std::string label;
      absl::StatusOr<PhaseResult> r =
          RunSystem(system, options, w, *setup, &extra, &label, progress);
      if (!r.ok()) {
        if (progress) *progress << std::endl;
        return absl::Status(r.status().code(), absl::StrCat(BusModeName(mode), " / ", system, ": ",
                                                            r.status().message()));
      }
      nlohmann::json j = PhaseJson(*r);
      j["label"] = label;
      for (auto& [k, v] : extra.items()) j[k] = v;
      if (progress) {
        *progress << " p50 " << std::fixed << std::setprecision(1) << j["p50_us"].get<double>()
                  << " us, " << std::setprecision(0) << j["msgs_per_s"].get<double>() << " msgs/s"
                  << std::endl;
      }
      mode_json["systems"][system] = std::move(j);
    }
    nlohmann::json ratios = nlohmann::json::object();
    const nlohmann::json& sys = mode_json["systems"];
    for (const char* bus : {kLatentbus, kLatentbusCompare, kLatentbusText}) {
      if (!sys.contains(bus)) continue;
      for (const char* base : {kRelay, kNats}) {
        if (!sys.contains(base)) continue;
        const std::string prefix = absl::StrCat(bus, "_vs_", base == kRelay ? "floor" : "nats");
        ratios[prefix + "_p50"] = Ratio(sys[bus], sys[base], "p50_us");
        ratios[prefix + "_p99"] = Ratio(sys[bus], sys[base], "p99_us");
        ratios[prefix + "_msgs_per_s"] = Ratio(sys[bus], sys[base], "msgs_per_s");
      }
    }
    for (bool sync : options.cluster.sync_always) {
      if (cluster_systems.empty()) break;
      const std::string policy = sync ? "always" : "fast";
      const std::string floor = "jetstream_" + policy;
      for (const std::string& system : cluster_systems) {
        if (system == floor || !absl::EndsWith(system, "_" + policy) || !sys.contains(system)) {
          continue;
        }
        ratios[system + "_vs_jetstream_p50"] = Ratio(sys[system], sys[floor], "p50_us");
        ratios[system + "_vs_jetstream_p99"] = Ratio(sys[system], sys[floor], "p99_us");
        ratios[system + "_vs_jetstream_msgs_per_s"] = Ratio(sys[system], sys[floor], "msgs_per_s");
      }
    }
    AddTracingRatios(sys, &ratios);
    mode_json["ratios"] = std::move(ratios);
    result["modes"][BusModeName(mode)] = std::move(mode_json);
  }

  // The default (first) mode's headline figures at the top level.
  const std::string first = BusModeName(options.modes.front());
  const nlohmann::json& m = result["modes"][first];
  const nlohmann::json& bus = m["systems"][kLatentbus];
  result["mode"] = first;
  for (const char* k :
       {"p50_us", "p90_us", "p99_us", "p999_us", "max_us", "msgs_per_s", "rejects", "lost"}) {
    result[k] = bus[k];
  }
  auto baseline = [&](const char* system, const char* prefix) {
    if (!m["systems"].contains(system)) return;
    const nlohmann::json& b = m["systems"][system];
    result[absl::StrCat(prefix, "_p50_us")] = b["p50_us"];
    result[absl::StrCat(prefix, "_p99_us")] = b["p99_us"];
    result[absl::StrCat(prefix, "_msgs_per_s")] = b["msgs_per_s"];
    result[absl::StrCat("vs_", prefix, "_p50")] = Ratio(bus, b, "p50_us");
    result[absl::StrCat("vs_", prefix, "_p99")] = Ratio(bus, b, "p99_us");
  };
  baseline(kRelay, "floor");
  baseline(kNats, "nats");
  if (m["systems"].contains(kLatentbusText)) {
    result["text_p50_us"] = m["systems"][kLatentbusText]["p50_us"];
  }
  nlohmann::json goal = {{"mode", first}, {"max_vs_floor_p50", 2.0}, {"max_vs_nats_p50", 1.0}};
  // A run that completed nothing meets no goal (its p50 of 0 would look fastest).
  const bool measured = result["msgs_per_s"].get<double>() > 0;
  if (result.contains("vs_floor_p50")) {
    goal["met_vs_floor"] = measured && result["vs_floor_p50"] <= 2.0;
  }
  if (result.contains("vs_nats_p50"))
    goal["met_vs_nats"] = measured && result["vs_nats_p50"] <= 1.0;
  result["goal"] = std::move(goal);
  // Translated latents at the speed of text: the latent's p50 within 3x the floor and
  // within the text p50 plus 1.5x the packet's isolated translation; text within
  // nats-server.
  if (result.contains("broker_translation") &&
      result["broker_translation"].contains("isolated_us") && result.contains("text_p50_us")) {
    const double isolated = result["broker_translation"]["isolated_us"].get<double>();
    const double text = result["text_p50_us"].get<double>();
    nlohmann::json lg = {{"mode", first},
                         {"max_vs_floor_p50", 3.0},
                         {"text_plus_translations", 1.5},
                         {"allowed_p50_us", text + 1.5 * isolated}};
    if (result.contains("vs_floor_p50")) {
      lg["met_vs_floor"] = measured && result["vs_floor_p50"] <= 3.0;
    }
    lg["met_vs_text"] = measured && result["p50_us"].get<double>() <= text + 1.5 * isolated;
    if (result.contains("nats_p50_us")) {
      lg["text_met_vs_nats"] = text > 0 && text <= result["nats_p50_us"].get<double>();
    }
    result["latent_goal"] = std::move(lg);
  }
  if (options.tracing) result["tracing"] = SummarizeTracing(m);
  if (!cluster_systems.empty() && options.modes.front() != BusMode::kTopic) {
    SummarizeCluster(options.cluster, m, &result["cluster"]);
  }
  return result;
}

}  // namespace latentbus::bench
