// `latentbus broker`: runs the broker (broker/server.h) until SIGTERM/SIGINT, then
// drains gracefully. Options come from an optional YAML file (--config, see
// broker/config.h for the layout) overridden by the flags given on the command line.

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "broker/artifact_bridge.h"
#include "broker/config.h"
#include "broker/server.h"
#include "cli/commands.h"
#include "cli/stop_signals.h"
#include "proto/error_reason.h"
#include "spdlog/spdlog.h"
#include "telemetry/config.h"

namespace latentbus::cli {
namespace {

struct BrokerFlags {
  std::string config_file;
  std::string port_file;
  broker::BrokerConfig c;  // defaults shown in --help
};

int RunBroker(const BrokerFlags& flags, const CLI::App& cmd) {
  broker::BrokerConfig config;
  if (!flags.config_file.empty()) {
    absl::StatusOr<broker::BrokerConfig> loaded = broker::LoadConfigFile(flags.config_file);
    if (!loaded.ok()) {
      spdlog::error("{}", wire::Describe(loaded.status()));
      return 2;
    }
    config = *std::move(loaded);
  }
  // Flags given on the command line override the file.
  auto given = [&cmd](const char* name) { return cmd.get_option(name)->count() > 0; };
  const broker::BrokerConfig& f = flags.c;
  if (given("--listen")) config.listen_address = f.listen_address;
  if (given("--metrics-listen")) config.metrics_address = f.metrics_address;
  if (given("--health-listen")) config.health_address = f.health_address;
  if (given("--log-level")) config.log_level = f.log_level;
  if (given("--drain-timeout")) config.drain_timeout_seconds = f.drain_timeout_seconds;
  if (given("--bridges")) config.bridge_dir = f.bridge_dir;
  if (given("--tls-cert")) config.tls.cert_file = f.tls.cert_file;
  if (given("--tls-key")) config.tls.key_file = f.tls.key_file;
  if (given("--tls-client-ca")) config.tls.client_ca_file = f.tls.client_ca_file;
  if (given("--max-message-bytes")) config.limits.max_message_bytes = f.limits.max_message_bytes;
  if (given("--max-queue-depth")) config.limits.max_queue_depth = f.limits.max_queue_depth;
  if (given("--max-queue-bytes")) config.limits.max_queue_bytes = f.limits.max_queue_bytes;
  if (given("--max-total-queue-bytes")) {
    config.limits.max_total_queue_bytes = f.limits.max_total_queue_bytes;
  }
  if (given("--max-topics")) config.limits.max_topics_per_agent = f.limits.max_topics_per_agent;
  if (given("--rate")) config.limits.rate_per_second = f.limits.rate_per_second;
  if (given("--rate-burst")) config.limits.rate_burst = f.limits.rate_burst;
  if (given("--delivery-credits")) config.limits.delivery_credits = f.limits.delivery_credits;
  if (given("--send-credits")) config.limits.send_credits = f.limits.send_credits;
  if (given("--dedup-window")) config.limits.dedup_window = f.limits.dedup_window;
  if (given("--max-deadline")) {
    config.limits.max_deadline_seconds = f.limits.max_deadline_seconds;
  }
  if (given("--cluster")) config.cluster.servers = f.cluster.servers;
  if (given("--durability")) config.cluster.durability = f.cluster.durability;
  if (given("--cluster-replicas")) config.cluster.replicas = f.cluster.replicas;
  if (given("--cluster-ack-wait")) config.cluster.ack_wait_seconds = f.cluster.ack_wait_seconds;
  if (given("--broker-name")) config.cluster.broker_name = f.cluster.broker_name;
  if (given("--min-fidelity")) config.policy.min_fidelity = f.policy.min_fidelity;
  if (given("--fidelity-metric")) config.policy.metric = f.policy.metric;
  if (given("--translation-threads")) config.translation.threads = f.translation.threads;
  if (given("--translation-batch")) config.translation.max_batch = f.translation.max_batch;
  if (given("--translation-compute-threads")) {
    config.translation.compute_threads = f.translation.compute_threads;
  }
  if (given("--translation-kernels")) config.translation.kernels = f.translation.kernels;
  if (given("--translation-device")) config.translation.device = f.translation.device;
  if (given("--translation-inline-max-tokens")) {
    config.translation.inline_max_tokens = f.translation.inline_max_tokens;
  }
  if (given("--keepalive-ms")) config.keepalive_time_ms = f.keepalive_time_ms;
  if (absl::Status s = broker::ValidateConfig(config); !s.ok()) {
    spdlog::error("{}", wire::Describe(s));
    return 2;
  }
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  // Before any thread of ours or a library's starts (cli/stop_signals.h). A second signal
  // during the drain does not cut it short: the drain goes on to its timeout; SIGKILL
  // stops at once.
  const double drain_seconds = config.drain_timeout_seconds;
  cli::StopSignals signals([drain_seconds](int signo) {
    spdlog::warn(
        "signal {} received again: the drain goes on (at most {} s in all); SIGKILL "
        "stops at once, losing what is queued",
        signo, drain_seconds);
  });
  broker::ApplyComputeThreads(config.translation);
  // Spans over OTLP when the OTEL_* environment names an endpoint (docs/TRACING.md).
  absl::StatusOr<std::unique_ptr<telemetry::Tracer>> tracer =
      telemetry::TracerFromEnvironment("latentbus-broker", config.cluster.broker_name);
  if (!tracer.ok()) {
    spdlog::error("tracing: {}", std::string(tracer.status().message()));
    return 2;
  }
  const std::shared_ptr<telemetry::Tracer> traces = *std::move(tracer);

  const std::string bridge_dir = config.bridge_dir;
  broker::BrokerOptions options;
  options.config = std::move(config);
  options.tracer = traces;
  options.bridge_loader = broker::ArtifactBridgeLoader(options.config.translation.kernels,
                                                       options.config.translation.device);
  absl::StatusOr<std::unique_ptr<broker::BrokerServer>> server =
      broker::BrokerServer::Start(std::move(options));
  if (!server.ok()) {
    spdlog::error("cannot start the broker: {}", wire::Describe(server.status()));
    return 1;
  }
  if (!bridge_dir.empty()) {
    absl::StatusOr<int> loaded =
        broker::LoadBridgeDirectory(bridge_dir, &(*server)->broker().bridges());
    if (!loaded.ok()) {
      spdlog::error("cannot load bridges: {}", wire::Describe(loaded.status()));
      (*server)->Drain(absl::ZeroDuration());
      return 1;
    }
    spdlog::info("loaded {} bridges from {}", *loaded, bridge_dir);
    for (const broker::BridgeInfo& info : (*server)->broker().bridges().List()) {
      const broker::BridgeVerdict verdict = (*server)->broker().policy().JudgeDefault(info);
      if (verdict.carries_latents) {
        spdlog::info("bridge {} ({} -> {}): {}", info.id, info.src.model_id, info.dst.model_id,
                     verdict.Describe());
      } else {
        spdlog::warn("bridge {} ({} -> {}): {}", info.id, info.src.model_id, info.dst.model_id,
                     verdict.Describe());
      }
    }
  }
  if (!flags.port_file.empty()) {
    // Written once the broker is ready (bridges loaded), renamed into place so a reader
    // never sees a partial file.
    const std::string tmp = flags.port_file + ".tmp";
    std::ofstream out(tmp, std::ios::trunc);
    out << (*server)->port() << "\n";
    out.close();
    if (!out || std::rename(tmp.c_str(), flags.port_file.c_str()) != 0) {
      spdlog::error("cannot write --port-file {}", flags.port_file);
      (*server)->Drain(absl::ZeroDuration());
      return 1;
    }
  }
  const int signal_number = signals.AwaitFirst();
  spdlog::info("signal {} received: draining for up to {} s", signal_number, drain_seconds);
  (*server)->Drain(absl::Seconds(drain_seconds));
  if (traces) traces->Shutdown(absl::Seconds(5));  // the last spans leave before exit
  return 0;
}

}  // namespace

void RegisterBrokerCommands(CLI::App& app, RunFn* run) {
  auto flags = std::make_shared<BrokerFlags>();
  broker::BrokerConfig& c = flags->c;
  CLI::App* cmd = app.add_subcommand(
      "broker",
      "Run the broker: the gRPC server agents connect to (latentbus.v1.Broker, health, "
      "reflection) plus Prometheus metrics. SIGTERM/SIGINT drain it gracefully.");
  cmd->add_option("--config", flags->config_file,
                  "YAML configuration file (every key: docs/CONFIG.md); flags override it")
      ->check(CLI::ExistingFile);
  cmd->add_option("--listen", c.listen_address, "gRPC listen address host:port (0 = any port)")
      ->capture_default_str();
  cmd->add_option("--port-file", flags->port_file,
                  "write the bound gRPC port here once ready (for --listen host:0 in scripts)");
  cmd->add_option("--metrics-listen", c.metrics_address,
                  "Prometheus /metrics HTTP address host:port; empty disables")
      ->capture_default_str();
  cmd->add_option("--health-listen", c.health_address,
                  "plaintext gRPC address serving only grpc.health.v1 (for Kubernetes grpc "
                  "probes when TLS is on); empty disables");
  cmd->add_option("--log-level", c.log_level, "trace, debug, info, warn, error, off")
      ->capture_default_str();
  cmd->add_option("--bridges", c.bridge_dir,
                  "folder of *.bridge artifacts (latentbus bridge fit) loaded at start");
  cmd->add_option("--drain-timeout", c.drain_timeout_seconds,
                  "seconds queues may take to flush on SIGTERM before shutdown")
      ->capture_default_str();
  cmd->add_option("--tls-cert", c.tls.cert_file, "PEM server certificate chain (enables TLS)");
  cmd->add_option("--tls-key", c.tls.key_file, "PEM server private key");
  cmd->add_option("--tls-client-ca", c.tls.client_ca_file,
                  "PEM CA bundle; clients must present a certificate it signed (mTLS)");
  cmd->add_option("--max-message-bytes", c.limits.max_message_bytes,
                  "largest envelope accepted (MESSAGE_TOO_LARGE beyond)")
      ->capture_default_str();
  cmd->add_option("--max-queue-depth", c.limits.max_queue_depth,
                  "queued + unacked messages per recipient (QUEUE_FULL beyond)")
      ->capture_default_str();
  cmd->add_option("--max-queue-bytes", c.limits.max_queue_bytes,
                  "queued + unacked bytes per recipient (QUEUE_FULL beyond); must hold one "
                  "message of --max-message-bytes")
      ->capture_default_str();
  cmd->add_option("--max-total-queue-bytes", c.limits.max_total_queue_bytes,
                  "queued + unacked bytes for all recipients together (QUEUE_FULL beyond)")
      ->capture_default_str();
  cmd->add_option("--max-topics", c.limits.max_topics_per_agent,
                  "topic subscriptions per agent (TOO_MANY_TOPICS beyond)")
      ->capture_default_str();
  cmd->add_option("--rate", c.limits.rate_per_second,
                  "messages per second per token (per agent id when authentication is off), "
                  "token bucket; 0 = unlimited (RATE_LIMITED)")
      ->capture_default_str();
  cmd->add_option("--rate-burst", c.limits.rate_burst,
                  "token bucket size per token (per agent id when authentication is off)")
      ->capture_default_str();
  cmd->add_option("--delivery-credits", c.limits.delivery_credits,
                  "delivery credits when Register.initial_credits is 0")
      ->capture_default_str();
  cmd->add_option("--send-credits", c.limits.send_credits,
                  "send window granted to each stream (NO_CREDIT beyond)")
      ->capture_default_str();
  cmd->add_option("--dedup-window", c.limits.dedup_window,
                  "accepted (sender, message id) pairs remembered per recipient")
      ->capture_default_str();
  cmd->add_option("--max-deadline", c.limits.max_deadline_seconds,
                  "furthest deadline in seconds; later ones are brought forward, requests "
                  "without one get it")
      ->capture_default_str();
  cmd->add_option("--cluster", c.cluster.servers,
                  "NATS JetStream servers (nats://HOST:PORT[,nats://...]) that keep the queues: "
                  "they outlive the broker and several brokers share them (default: in memory)");
  cmd->add_option("--durability", c.cluster.durability,
                  "with --cluster: always (servers flush before acking, sync_interval: always) "
                  "or fast (their lazy flush accepted)")
      ->capture_default_str();
  cmd->add_option("--cluster-replicas", c.cluster.replicas,
                  "with --cluster: copies of each message (3 on a 3-node cluster)")
      ->capture_default_str();
  cmd->add_option("--cluster-ack-wait", c.cluster.ack_wait_seconds,
                  "with --cluster: seconds before a delivery held unacked by a broker that died "
                  "is handed out again")
      ->capture_default_str();
  cmd->add_option("--broker-name", c.cluster.broker_name,
                  "with --cluster: this broker's name in the agent directory, unique in the "
                  "cluster (default <host>-<pid>-<4 random hex digits>)");
  cmd->add_option("--min-fidelity", c.policy.min_fidelity,
                  "score a bridge needs to carry latents (-1: the metric's default, cosine 0.9, "
                  "ask_agreement 0.6; policy rules in the YAML)")
      ->capture_default_str();
  cmd->add_option("--fidelity-metric", c.policy.metric,
                  "recorded figure bridges are judged on: auto (ask_agreement for trained "
                  "bridges, else cosine) or a figure's name")
      ->capture_default_str();
  cmd->add_option("--translation-threads", c.translation.threads,
                  "worker threads that translate latents")
      ->capture_default_str();
  cmd->add_option("--translation-batch", c.translation.max_batch,
                  "most packets translated in one bridge call")
      ->capture_default_str();
  cmd->add_option("--translation-compute-threads", c.translation.compute_threads,
                  "threads one bridge call may use in libtorch/OpenBLAS (0: one per core)")
      ->capture_default_str();
  cmd->add_option("--translation-kernels", c.translation.kernels,
                  "products bridges translate with: auto (int8 where the CPU has VNNI), blas, "
                  "int8, or an int8 variant (scalar, avx2, avx2vnni, avx512, avx512vnni)")
      ->capture_default_str();
  cmd->add_option("--translation-device", c.translation.device,
                  "where bridges translate: cpu, cuda or cuda:N (libtorch with CUDA; kernels "
                  "auto or blas)")
      ->capture_default_str();
  cmd->add_option(
         "--translation-inline-max-tokens", c.translation.inline_max_tokens,
         "latents for one receiver with at most this many tokens are translated on the "
         "receiving thread when nothing is queued and a translation slot is free (0: always on the "
         "workers)")
      ->capture_default_str();
  cmd->add_option("--keepalive-ms", c.keepalive_time_ms, "gRPC keepalive ping interval")
      ->capture_default_str();
  cmd->footer(
      "Authentication tokens and ACLs, and per-class / per-model-pair policy rules, are set "
      "in the YAML file (tokens:, policy.rules:). Without tokens, authentication is off.");
  cmd->callback([flags, cmd, run] { *run = [flags, cmd] { return RunBroker(*flags, *cmd); }; });
}

}  // namespace latentbus::cli
