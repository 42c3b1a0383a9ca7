// `latentbus a2a`: the A2A gateway beside a broker (a2a/gateway.h).
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "a2a/gateway.h"
#include "cli/commands.h"
#include "cli/connection_flags.h"
#include "cli/stop_signals.h"
#include "proto/error_reason.h"
#include "spdlog/spdlog.h"
#include "telemetry/config.h"

namespace latentbus::cli {
namespace {

struct A2aFlags {
  ConnectionFlags conn;
  a2a::GatewayOptions o;
  double timeout = 60;
  double max_timeout = 600;
  std::string ready_file;
};

int RunA2a(A2aFlags f) {
  StopSignals signals([](int signo) {
    spdlog::warn("signal {} received again: the gateway is already stopping", signo);
  });
  absl::StatusOr<agent::ClientOptions> bus = ToClientOptions(f.conn);
  if (!bus.ok()) {
    spdlog::error("{}", std::string(bus.status().message()));
    return 2;
  }
  if (f.timeout <= 0 || f.max_timeout < f.timeout) {
    spdlog::error("--timeout must be > 0 and at most --max-timeout");
    return 2;
  }
  // The bus client starts a message's trace when the caller sent no traceparent and OTEL_*
  // names an endpoint (docs/TRACING.md); declared before the gateway, so it outlives it.
  absl::StatusOr<std::unique_ptr<telemetry::Tracer>> tracer =
      telemetry::TracerFromEnvironment("latentbus-a2a", f.o.listen);
  if (!tracer.ok()) {
    spdlog::error("tracing: {}", std::string(tracer.status().message()));
    return 2;
  }
  f.o.bus = *std::move(bus);
  f.o.bus.tracer = tracer->get();
  f.o.default_timeout = absl::Seconds(f.timeout);
  f.o.max_timeout = absl::Seconds(f.max_timeout);
  f.o.version = LATENTBUS_VERSION;
  absl::StatusOr<std::unique_ptr<a2a::Gateway>> gateway = a2a::Gateway::Start(f.o);
  if (!gateway.ok()) {
    spdlog::error("a2a gateway: {}", wire::Describe(gateway.status()));
    return gateway.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  spdlog::info("a2a gateway for broker {} listening on {} (cards: {}/cards)", f.o.bus.address,
               (*gateway)->url(), (*gateway)->url());
  if (!f.ready_file.empty()) std::ofstream(f.ready_file) << (*gateway)->url() << "\n";
  const int signal_number = signals.AwaitFirst();
  spdlog::info("signal {} received: stopping the gateway", signal_number);
  (*gateway)->Stop();
  if (!f.ready_file.empty()) std::remove(f.ready_file.c_str());
  return 0;
}

}  // namespace

void RegisterA2aCommand(CLI::App& app, RunFn* run) {
  auto f = std::make_shared<A2aFlags>();
  CLI::App* cmd = app.add_subcommand(
      "a2a",
      "Run the A2A gateway: A2A clients (protocol 1.0, JSON-RPC over HTTP, streaming) reach "
      "every agent and topic of the broker; each has a card at "
      "<url>/agents/<id>/.well-known/agent-card.json, all are listed at <url>/cards. "
      "SIGTERM/SIGINT stop it.");
  AddConnectionFlags(cmd, &f->conn, "");
  cmd->add_option("--listen", f->o.listen, "host:port to serve HTTP on (port 0: any free one)")
      ->capture_default_str();
  cmd->add_option("--public-url", f->o.public_url,
                  "the URL callers reach the gateway at, written into cards (default "
                  "http://<listen>)");
  cmd->add_option("--id-prefix", f->o.id_prefix,
                  "bus agent ids of the callers' clients are <prefix>-<token hash>; give each "
                  "gateway replica its own")
      ->capture_default_str();
  cmd->add_option("--hide", f->o.hidden_agents,
                  "agent ids (shell globs, repeatable) left out of the cards; the gateways' own "
                  "clients match the default")
      ->capture_default_str();
  cmd->add_option("--timeout", f->timeout,
                  "seconds a task waits for its reply unless the message's "
                  "latentbus.timeoutSeconds metadata says otherwise")
      ->capture_default_str();
  cmd->add_option("--max-timeout", f->max_timeout, "the longest latentbus.timeoutSeconds accepted")
      ->capture_default_str();
  cmd->add_option("--http-threads", f->o.http_threads,
                  "requests served at once (each open stream holds one)")
      ->capture_default_str()
      ->check(CLI::Range(2, 4096));
  cmd->add_option("--max-request-bytes", f->o.max_request_bytes,
                  "larger request bodies are refused with 413")
      ->capture_default_str();
  cmd->add_option("--max-tasks", f->o.tasks.max_tasks,
                  "tasks held (finished ones are forgotten first; beyond, new ones are refused)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-task-bytes", f->o.tasks.max_bytes,
                  "bytes of messages and replies held in tasks")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-callers", f->o.max_links,
                  "caller tokens with a live bus client (the least recently used idle one is "
                  "closed beyond)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--ready-file", f->ready_file,
                  "written with the gateway's URL once it serves, removed on exit");
  cmd->callback([run, f] { *run = [f] { return RunA2a(*f); }; });
}

}  // namespace latentbus::cli
