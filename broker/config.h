// Broker configuration: one struct with every option, its default, and the YAML that
// sets it. `latentbus broker --help` documents the same options as flags; a flag given
// on the command line overrides the file.
//
// YAML layout (every key optional; unknown keys are an error so typos do not pass):
//
//   listen: 127.0.0.1:7070          # gRPC address (host:port; port 0 picks one)
//   metrics_listen: 127.0.0.1:9464  # Prometheus /metrics over HTTP; "" disables
//   metrics_auth: false             # true: /metrics needs a token with admin or metrics
//   reflection: true                # gRPC server reflection on the listen port
//   health_listen: ""               # plaintext grpc.health.v1-only port (kubelet probes
//                                   # cannot speak TLS); "" = none
//   log_level: info                 # trace, debug, info, warn, error
//   drain_timeout_seconds: 10       # SIGTERM: how long queues may take to flush
//   bridges: /var/lib/latentbus/bridges  # *.bridge artifacts loaded at start
//   tls: {cert: server.pem, key: server.key, client_ca: ca.pem}  # client_ca => mTLS
//   keepalive: {time_ms: 30000, timeout_ms: 10000}
//   translation: {threads: 2, max_batch: 32, max_pending: 4096,
//                 max_pending_bytes: 268435456, compute_threads: 1, kernels: auto,
//                 device: cpu, inline_max_tokens: 128}
//   limits:
//     max_message_bytes: 4194304    # largest envelope accepted (MESSAGE_TOO_LARGE)
//     max_queue_depth: 1024         # queued + unacked per recipient (QUEUE_FULL)
//     max_queue_bytes: 67108864     # the same in bytes, per recipient (QUEUE_FULL)
//     max_total_queue_bytes: 1073741824  # all recipients together (QUEUE_FULL)
//     absent_retention_seconds: 3600     # a disconnected agent stays a recipient (its
//                                   # messages queued) this long; then it is forgotten and
//                                   # its queue released (dropped, counted)
//     max_topics_per_agent: 64      # TOO_MANY_TOPICS
//     rate_per_second: 1000         # token bucket per token (per agent id when authentication
//                                   # is off), kept across reconnects; 0 = unlimited
//                                   # (RATE_LIMITED)
//     rate_burst: 2000
//     delivery_credits: 64          # default when Register.initial_credits is 0
//     send_credits: 256             # send window granted to each stream (NO_CREDIT)
//     dedup_window: 4096            # accepted (sender, message id) pairs remembered
//     max_deadline_seconds: 3600    # later deadlines are brought forward to this; a request
//                                   # (expects_reply) without a deadline gets it
//   policy:
//     metric: auto                  # the recorded fidelity figure a bridge is judged on:
//                                   # auto = ask_agreement when the artifact has it (trained
//                                   # bridges: share of held-out questions the receiver
//                                   # answers as from the text), else cosine (held-out
//                                   # embedding cosine); or name any recorded figure
//     min_fidelity: -1              # threshold on it; < 0 = the default per metric:
//                                   # cosine 0.9, ask_agreement 0.6, any other 0.9
//     rules:                        # first match wins; default: [{class: reasoning, form: text}]
//       - {class: reasoning, src: "*", dst: "*", form: text}
//       - {class: context, src: "smollm2*", dst: "gemma-3*", form: latent, min_fidelity: 0.8}
//   cluster:                        # none => queues in this process's memory (one broker)
//     servers: nats://n1:4222,nats://n2:4222  # NATS JetStream keeps the queues: they
//                                   # outlive the broker, and brokers share them
//     durability: always            # always: the servers flush to disk before they ack
//                                   # (sync_interval: always, as every configuration we ship
//                                   # sets); fast: their lazy flush is accepted (an OS crash
//                                   # or power loss of a quorum may lose acked messages)
//     replicas: 1                   # copies of each message (3 on a 3-node cluster)
//     stream: LATENTBUS             # the JetStream stream's name
//     ack_wait_seconds: 30          # a delivery held unacked by a broker that died is
//                                   # handed out again after this long
//     broker_name: ""               # this broker in the agent directory ("" = host-pid)
//   tokens:                         # none => authentication off
//     - name: planner
//       token: "s3cret"             # or token_file: /run/secrets/planner
//       agents: ["planner-*"]       # agent ids the token may register / send as
//       publish: ["tasks.*"]        # topics it may publish to
//       subscribe: ["results.*"]    # topics it may subscribe to
//       send_to: ["worker-*"]       # agent ids it may message directly (default ["*"]);
//                                   # replies to requests made to it are always allowed
//       admin: false                # may call LoadBridge/UnloadBridge/ListAgents/...
//       metrics: false              # may scrape /metrics when metrics_auth is on
//
// Thread safety: plain data; the loader functions are pure.
#ifndef LATENTBUS_BROKER_CONFIG_H_
#define LATENTBUS_BROKER_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace latentbus::broker {

struct TlsConfig {
  std::string cert_file;       // PEM certificate chain; empty => plaintext
  std::string key_file;        // PEM private key
  std::string client_ca_file;  // PEM roots; set => clients must present a cert (mTLS)
  bool enabled() const { return !cert_file.empty(); }
};

struct TokenConfig {
  std::string name;
  std::string token;
  std::vector<std::string> agents;           // globs of agent ids
  std::vector<std::string> publish;          // globs of topics
  std::vector<std::string> subscribe;        // globs of topics
  std::vector<std::string> send_to = {"*"};  // globs of agent ids it may send to directly
  bool admin = false;
  bool metrics = false;  // may scrape /metrics when metrics_auth is on (admin tokens may too)
};

struct LimitsConfig {
  uint64_t max_message_bytes = 4u << 20;
  uint32_t max_queue_depth = 1024;
  // Bytes held per recipient (queued + unacked, each message charged its size plus a
  // fixed overhead) and for all recipients together. Deliveries in flight to a stream are
  // a second copy within the same bound, so queues take at most twice the total.
  uint64_t max_queue_bytes = uint64_t{64} << 20;
  uint64_t max_total_queue_bytes = uint64_t{1} << 30;
  // A recipient without a stream keeps its queue and dedup window this long, then they
  // are released (what was queued is dropped and counted).
  uint32_t absent_retention_seconds = 3600;
  uint32_t max_topics_per_agent = 64;
  double rate_per_second = 1000;
  double rate_burst = 2000;
  uint32_t delivery_credits = 64;
  uint32_t send_credits = 256;
  uint32_t dedup_window = 4096;
  // The furthest deadline the broker keeps state for: later deadlines are brought forward
  // to now + this, and a request without a deadline gets it (its pending reply and timer
  // are released then). In [1, 31536000].
  uint32_t max_deadline_seconds = 3600;
};

// One policy rule. `message_class` is "*" or a class name ("context", "reasoning",
// "instruction", "result", "control"); src/dst are globs over model ids.
struct PolicyRule {
  std::string message_class = "*";
  std::string src_model = "*";
  std::string dst_model = "*";
  std::string form = "text";  // "text" or "latent" (latent only through a good bridge)
  double min_fidelity = -1;   // < 0: PolicyConfig::min_fidelity
  std::string metric;         // empty: PolicyConfig::metric
};

// The threshold a metric gets when the policy names none (cosine 0.9, ask_agreement 0.6).
double DefaultThreshold(const std::string& metric);

struct PolicyConfig {
  double min_fidelity = -1;     // < 0: DefaultThreshold(the metric in effect)
  std::string metric = "auto";  // a fidelity key, or auto (see above)
  std::vector<PolicyRule> rules = {PolicyRule{"reasoning", "*", "*", "text", -1, ""}};
};

struct TranslationConfig {
  int threads = 2;  // translation pool workers: the broker's translation parallelism
  uint32_t max_batch = 32;
  uint32_t max_pending = 4096;
  // Bytes of decoded latents (4 a value) the waiting jobs may hold together.
  uint64_t max_pending_bytes = uint64_t{256} << 20;
  // Threads one bridge call may use inside libtorch and OpenBLAS, process-wide (applied
  // by broker/artifact_bridge.h ApplyComputeThreads); 0 leaves the libraries' default of
  // one per core. 1 by default: a batch of a few [T, d] packets is too small to gain from
  // more, and their idle spinning slows the gRPC threads (docs/PERFORMANCE.md: 16 KiB
  // int4 request/reply through a 576 -> 640 bridge, translation 2.8 ms -> 1.0 ms a batch).
  int compute_threads = 1;
  // The products bridges translate with (bridge/bridge_kernels.h): auto (int8 where the CPU
  // has VNNI, float32 BLAS elsewhere; LATENTBUS_BRIDGE_KERNELS overrides), blas, int8, or an
  // int8 variant (scalar, avx2, avx2vnni, avx512, avx512vnni). A variant the CPU cannot run
  // fails the bridge's load.
  std::string kernels = "auto";
  // Where bridges translate: cpu, or cuda / cuda:N (libtorch on a GPU, float32; kernels
  // must then be auto or blas). A broker whose libtorch has no CUDA, or that sees no such
  // GPU, fails each bridge's load, naming why.
  std::string device = "cpu";
  // A latent for one receiver with at most this many tokens is translated on the thread
  // that received it when nothing is queued and a translation slot is free, instead of
  // being handed to a worker (broker/translation_pool.h); 0: always on the workers.
  uint32_t inline_max_tokens = 128;
};

// What TranslationConfig::kernels may say: auto, blas, int8 and the int8 variants' names.
const std::vector<std::string>& TranslationKernelNames();

// Where the queues live when several brokers share them (broker/jetstream_delivery.h).
struct ClusterConfig {
  std::string servers;  // comma-separated nats:// URLs; empty => in memory
  std::string durability = "always";
  int replicas = 1;
  std::string stream = "LATENTBUS";
  uint32_t ack_wait_seconds = 30;
  // This broker's name in the cluster's agent directory ("" = <host>-<pid>-<random>); unique.
  std::string broker_name;
  bool enabled() const { return !servers.empty(); }
};

struct BrokerConfig {
  std::string listen_address = "127.0.0.1:7070";
  std::string metrics_address = "127.0.0.1:9464";
  // /metrics answers only requests with an admin token or one marked `metrics: true`
  // (Authorization: Bearer); needs tokens. Its labels name every agent id.
  bool metrics_auth = false;
  // gRPC server reflection (lists the services and their schemas) on the listen port.
  bool reflection = true;
  // A second, always plaintext gRPC port serving only grpc.health.v1 (same status as the
  // main port), for probes that cannot use TLS or tokens; "" = none.
  std::string health_address;
  std::string log_level = "info";
  double drain_timeout_seconds = 10;
  // Every "*.bridge" artifact in this folder is loaded at start ("" = none).
  std::string bridge_dir;
  int keepalive_time_ms = 30000;
  int keepalive_timeout_ms = 10000;
  TlsConfig tls;
  LimitsConfig limits;
  PolicyConfig policy;
  TranslationConfig translation;
  ClusterConfig cluster;
  std::vector<TokenConfig> tokens;
};

// Parses YAML over `base` (keys absent from the YAML keep base's values).
// InvalidArgument with the offending key for malformed YAML, unknown keys, bad values.
absl::StatusOr<BrokerConfig> ParseConfigYaml(absl::string_view yaml, BrokerConfig base = {});

// Reads and parses a file (token_file entries are read relative to the cwd).
absl::StatusOr<BrokerConfig> LoadConfigFile(const std::string& path, BrokerConfig base = {});

// Checks ranges and cross-field rules (tls key without cert, duplicate tokens, ...).
absl::Status ValidateConfig(const BrokerConfig& config);

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_CONFIG_H_
