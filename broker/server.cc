#include "broker/server.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "broker/jetstream_delivery.h"
#include "broker/jetstream_directory.h"
#include "broker/metrics_http.h"
#include "broker/service.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/impl/server_builder_option.h"
#include "grpcpp/impl/server_builder_plugin.h"
#include "spdlog/spdlog.h"

namespace latentbus::broker {
namespace {

// Linking gRPC's reflection library registers its plugin for every server the process
// builds (a static initializer), so `reflection: false` has to take it out again.
class WithoutReflection : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    plugins->erase(std::remove_if(plugins->begin(), plugins->end(),
                                  [](const std::unique_ptr<grpc::ServerBuilderPlugin>& p) {
                                    return p->name() == "proto_server_reflection";
                                  }),
                   plugins->end());
  }
};

absl::StatusOr<std::string> ReadPem(const std::string& path, absl::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", what, " '", path, "'"));
  std::ostringstream out;
  out << in.rdbuf();
  if (out.str().find("-----BEGIN") == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(what, " '", path, "' is not PEM"));
  }
  return out.str();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(const TlsConfig& tls) {
  if (!tls.enabled()) return grpc::InsecureServerCredentials();
  absl::StatusOr<std::string> cert = ReadPem(tls.cert_file, "tls cert");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPem(tls.key_file, "tls key");
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions options(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  if (!tls.client_ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadPem(tls.client_ca_file, "tls client_ca");
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *ca;
    options.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  options.pem_key_cert_pairs.push_back({*key, *cert});
  return grpc::SslServerCredentials(options);
}

// The JetStream delivery layer the cluster settings name; says at start which durability
// is in force.
absl::StatusOr<std::unique_ptr<DeliveryLayer>> ClusterDelivery(const BrokerConfig& config,
                                                               Metrics* metrics,
                                                               telemetry::Tracer* tracer) {
  JetStreamDelivery::Options o;
  o.tracer = tracer;
  o.servers = config.cluster.servers;
  o.stream = config.cluster.stream;
  o.replicas = config.cluster.replicas;
  o.max_queue_depth = config.limits.max_queue_depth;
  o.max_message_bytes = config.limits.max_message_bytes;
  o.max_total_bytes = config.limits.max_total_queue_bytes;
  o.absent_retention = absl::Seconds(config.limits.absent_retention_seconds);
  o.ack_wait = absl::Seconds(config.cluster.ack_wait_seconds);
  absl::StatusOr<std::unique_ptr<JetStreamDelivery>> d = JetStreamDelivery::Create(o, metrics);
  if (!d.ok()) return d.status();
  if (config.cluster.durability == "always") {
    spdlog::info(
        "delivery: durability always: a message is acked to its sender once JetStream has it "
        "on disk on a quorum (the servers must run with sync_interval: always, as every "
        "configuration latentbus ships does)");
  } else {
    spdlog::warn(
        "delivery: durability fast: the servers' lazy flush is accepted; an OS crash or power "
        "loss on a quorum can lose messages already acked to their senders");
  }
  return std::unique_ptr<DeliveryLayer>(*std::move(d));
}

}  // namespace

absl::StatusOr<std::unique_ptr<BrokerServer>> BrokerServer::Start(BrokerOptions options) {
  if (absl::Status s = ValidateConfig(options.config); !s.ok()) return s;
  const BrokerConfig config = options.config;
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials = Credentials(config.tls);
  if (!credentials.ok()) return credentials.status();

  if (!options.metrics) options.metrics = std::make_shared<Metrics>();
  if (!options.delivery && config.cluster.enabled()) {
    absl::StatusOr<std::unique_ptr<DeliveryLayer>> delivery =
        ClusterDelivery(config, options.metrics.get(), options.tracer.get());
    if (!delivery.ok()) return delivery.status();
    options.delivery = *std::move(delivery);
  }
  std::unique_ptr<BrokerServer> server(new BrokerServer());
  server->broker_ = std::make_unique<Broker>(std::move(options));
  if (config.cluster.enabled()) {
    JetStreamDirectory::Options d;
    d.servers = config.cluster.servers;
    d.bucket = config.cluster.stream + "_AGENTS";
    d.replicas = config.cluster.replicas;
    d.broker_name = config.cluster.broker_name;
    absl::StatusOr<std::unique_ptr<JetStreamDirectory>> directory =
        JetStreamDirectory::Create(d, &server->broker_->registry(), &server->broker_->metrics());
    if (!directory.ok()) return directory.status();
    server->directory_ = *std::move(directory);
  }
  server->service_ = std::make_unique<BrokerService>(server->broker_.get());

  grpc::EnableDefaultHealthCheckService(true);
  if (config.reflection) grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  if (!config.reflection) builder.SetOption(std::make_unique<WithoutReflection>());
  // No SO_REUSEPORT: a second broker on a port in use fails to start instead of sharing
  // the port (and its agents) with the first.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(config.listen_address, *credentials, &server->port_);
  builder.RegisterService(server->service_.get());
  // Frames carry one envelope plus a little framing; larger frames fail at the gRPC
  // layer (RESOURCE_EXHAUSTED), envelopes over the limit but within the slack get a
  // MESSAGE_TOO_LARGE Error frame.
  const uint64_t frame_limit = config.limits.max_message_bytes + (64u << 10);
  builder.SetMaxReceiveMessageSize(static_cast<int>(frame_limit));
  builder.SetMaxSendMessageSize(static_cast<int>(frame_limit));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, config.keepalive_time_ms);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, config.keepalive_timeout_ms);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // Let clients ping as often as every 10 s without being disconnected.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  // What one stream may have in flight towards the broker stays fixed: with bandwidth
  // probing gRPC grew the receive window to megabytes, which an agent filled with
  // millions of 5-byte frames, each a buffer of its own in the transport (100 MB from
  // one stream in 8 s, tests/broker_answer_flood_test.cc). 256 KiB a stream still moves
  // a 4 MiB envelope at ~1 GB/s over a 0.25 ms round trip.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 256 << 10);
  server->server_ = builder.BuildAndStart();
  if (!server->server_ || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", config.listen_address, " (in use or invalid)"));
  }
  if (!config.health_address.empty()) {
    // Its own default health service (EnableDefaultHealthCheckService above), kept in
    // step with the main one by SetServing.
    grpc::ServerBuilder health_builder;
    health_builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    health_builder.AddListeningPort(config.health_address, grpc::InsecureServerCredentials(),
                                    &server->health_port_);
    server->health_server_ = health_builder.BuildAndStart();
    if (!server->health_server_ || server->health_port_ == 0) {
      server->Shutdown();
      return absl::UnavailableError(absl::StrCat("cannot listen on health address ",
                                                 config.health_address, " (in use or invalid)"));
    }
  }
  server->SetServing(true);
  if (!config.metrics_address.empty()) {
    absl::StatusOr<std::unique_ptr<MetricsHttpServer>> http = MetricsHttpServer::Start(
        config.metrics_address, &server->broker_->metrics(),
        config.metrics_auth
            ? MetricsHttpServer::Authorize([b = server->broker_.get()](absl::string_view token) {
                absl::StatusOr<std::shared_ptr<const Principal>> p =
                    b->auth().Authenticate(absl::StrCat("Bearer ", token));
                return p.ok() && (*p)->MayScrapeMetrics();
              })
            : nullptr);
    if (!http.ok()) {
      server->Shutdown();
      return http.status();
    }
    server->metrics_http_ = *std::move(http);
  }
  spdlog::info(
      "broker listening address={} port={} tls={} mtls={} metrics_port={} health_port={} "
      "auth={}",
      config.listen_address, server->port_, config.tls.enabled(),
      !config.tls.client_ca_file.empty(), server->metrics_port(), server->health_port_,
      server->broker_->auth().enabled());
  return server;
}

BrokerServer::~BrokerServer() { Shutdown(); }

int BrokerServer::metrics_port() const { return metrics_http_ ? metrics_http_->port() : 0; }

void BrokerServer::SetServing(bool serving) {
  if (server_) server_->GetHealthCheckService()->SetServingStatus(serving);
  if (health_server_) health_server_->GetHealthCheckService()->SetServingStatus(serving);
}

void BrokerServer::Drain(absl::Duration timeout) {
  {
    absl::MutexLock lock(&mu_);
    if (shutting_down_) return;
  }
  spdlog::info("drain started timeout_s={}", absl::ToDoubleSeconds(timeout));
  SetServing(false);
  if (directory_) directory_->ShuttingDown();
  broker_->delivery().ShuttingDown();
  broker_->BeginDrain("broker is shutting down");
  const absl::Time deadline = absl::Now() + timeout;
  if (broker_->config().cluster.enabled()) {
    // The queues outlive this broker: hand its agents to the others, gradually, within
    // half the drain time (at most 5 s).
    broker_->ShedSessions(std::min(timeout / 2, absl::Seconds(5)));
  }
  bool flushed = broker_->delivery().AwaitEmpty(deadline);
  // Absent agents are not waited for (they cannot come back while draining): say what
  // is left for them, and for agents that did not take theirs in time.
  size_t left = 0, left_absent = 0;
  for (const RecipientStats& r : broker_->delivery().Stats()) {
    left += r.queued + r.unacked;
    if (!r.attached) left_absent += r.queued + r.unacked;
  }
  spdlog::info(
      "drain flushed={} messages_left={} for_absent_agents={}{}", flushed, left, left_absent,
      left > 0 && !broker_->config().cluster.enabled() ? " (in memory: dropped with the broker)"
                                                       : "");
  Shutdown();
}

void BrokerServer::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (shutting_down_) {
      mu_.Await(absl::Condition(&shut_down_));
      return;
    }
    shutting_down_ = true;
  }
  SetServing(false);
  if (directory_) directory_->ShuttingDown();
  if (broker_) broker_->delivery().ShuttingDown();
  if (server_) {
    broker_->StopAccepting();
    // Streams still open after a short grace period are cancelled.
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  }
  if (health_server_) health_server_->Shutdown(std::chrono::system_clock::now());
  if (metrics_http_) metrics_http_->Stop();
  if (broker_) broker_->Shutdown();
  spdlog::info("broker stopped");
  absl::MutexLock lock(&mu_);
  shut_down_ = true;
}

void BrokerServer::Wait() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(&shut_down_));
}

}  // namespace latentbus::broker
