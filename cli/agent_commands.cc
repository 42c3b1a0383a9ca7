// `latentbus agent` (an agent process hosting one model), and `latentbus send`,
// `latentbus request`, `latentbus tail` (text-only clients for people and scripts).
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agent/client/channel.h"
#include "agent/client/client.h"
#include "agent/node/agent.h"
#include "cli/commands.h"
#include "cli/connection_flags.h"
#include "cli/model_path.h"
#include "nlohmann/json.hpp"
#include "proto/error_reason.h"
#include "proto/message_class.h"
#include "spdlog/spdlog.h"
#include "telemetry/config.h"

namespace latentbus::cli {
namespace {

absl::StatusOr<std::map<std::string, std::string>> ParseMetadata(
    const std::vector<std::string>& pairs) {
  std::map<std::string, std::string> out;
  for (const std::string& p : pairs) {
    std::pair<std::string, std::string> kv = absl::StrSplit(p, absl::MaxSplits('=', 1));
    if (kv.first.empty() || p.find('=') == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("--meta expects key=value, got '", p, "'"));
    }
    out[kv.first] = kv.second;
  }
  return out;
}

std::string FormName(v1::PayloadForm form) {
  return form == v1::PAYLOAD_FORM_LATENT ? "latent" : form == v1::PAYLOAD_FORM_TEXT ? "text" : "-";
}

nlohmann::json EnvelopeJson(const v1::Envelope& e) {
  nlohmann::json j;
  j["message_id"] = e.message_id();
  j["sender"] = e.sender_id();
  j["class"] = v1::MessageClass_Name(e.message_class());
  j["form"] = FormName(e.delivered_form());
  j["text"] = e.text();
  j["correlation_id"] = e.correlation_id();
  j["delivery_attempt"] = e.delivery_attempt();
  nlohmann::json meta = nlohmann::json::object();
  for (const auto& [k, v] : e.metadata()) meta[k] = v;
  j["metadata"] = meta;
  return j;
}

// Blocks SIGINT/SIGTERM in this and future threads; RunUntilStopSignal waits for them.
sigset_t BlockStopSignals() {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGTERM);
  sigaddset(&s, SIGINT);
  pthread_sigmask(SIG_BLOCK, &s, nullptr);
  return s;
}

// Runs `work` on a side thread while the main thread (the caller) waits for a stop signal
// from BlockStopSignals; on one, `on_signal(sig)` runs and must make `work` return. When
// `work` returns by itself, the wait ends too.
//
// The signal is awaited on the main thread because the kernel offers a process-directed
// signal to the thread group leader first, and only a thread in sigwait takes it. Threads
// that libraries started before BlockStopSignals (OpenBLAS's pool, at load time) leave it
// unblocked; a signal handed to one of them kills the process by default action, or, when
// the process is a container's PID 1, is dropped.
void RunUntilStopSignal(const sigset_t& stop, const std::function<void()>& work,
                        const std::function<void(int)>& on_signal) {
  std::atomic<bool> returned{false};
  const pthread_t main_thread = pthread_self();
  std::thread worker([&] {
    work();
    returned = true;
    pthread_kill(main_thread, SIGTERM);  // ends the sigwait below
  });
  int sig = 0;
  sigwait(&stop, &sig);
  if (!returned) on_signal(sig);
  worker.join();
}

// ---- latentbus agent -------------------------------------------------------------

struct AgentFlags {
  ConnectionFlags conn;
  agent::node::AgentOptions o;
  std::vector<std::string> topics;
  std::string ready_file;
  int threads = 0;
  std::string device = "cpu";
};

int RunAgent(AgentFlags f) {
  if (f.conn.id.empty()) {
    spdlog::error("latentbus agent needs --id");
    return 2;
  }
  absl::StatusOr<agent::ClientOptions> client = ToClientOptions(f.conn);
  if (!client.ok()) {
    spdlog::error("{}", wire::Describe(client.status()));
    return 2;
  }
  sigset_t stop = BlockStopSignals();
  // Spans over OTLP when the OTEL_* environment names an endpoint (docs/TRACING.md);
  // declared before the agent, so it outlives it and flushes last.
  absl::StatusOr<std::unique_ptr<telemetry::Tracer>> tracer =
      telemetry::TracerFromEnvironment("latentbus-agent", f.conn.id);
  if (!tracer.ok()) {
    spdlog::error("tracing: {}", std::string(tracer.status().message()));
    return 2;
  }
  f.o.tracer = tracer->get();
  f.o.client = *std::move(client);
  f.o.client.tracer = tracer->get();
  f.o.client.topics = f.topics;
  f.o.load.threads = f.threads;
  f.o.load.device = f.device;
  absl::StatusOr<std::unique_ptr<agent::node::Agent>> a = agent::node::Agent::Start(f.o);
  if (!a.ok()) {
    spdlog::error("agent {} cannot start: {}", f.conn.id, wire::Describe(a.status()));
    return 1;
  }
  const v1::ModelSpec& spec = (*a)->spec();
  spdlog::info("agent {} registered at {}: model {} (d={}, tap layer {}, receives {})", f.conn.id,
               f.conn.broker, spec.model_id(), spec.hidden_size(), spec.tap_layer(),
               f.o.receive_encoding);
  if (!f.ready_file.empty()) {
    std::ofstream(f.ready_file) << spec.model_id() << "\n";
  }
  absl::Status served;
  RunUntilStopSignal(
      stop, [&] { served = (*a)->Serve(); },
      [&](int sig) {
        spdlog::info("agent {}: signal {}, stopping", f.conn.id, sig);
        (*a)->client().Close();
      });
  if (!served.ok()) spdlog::error("agent {}: {}", f.conn.id, wire::Describe(served));
  if (!f.ready_file.empty()) std::remove(f.ready_file.c_str());
  return served.ok() ? 0 : 1;
}

// ---- latentbus send / request ----------------------------------------------------

struct SendFlags {
  ConnectionFlags conn;
  std::string to, topic, text, message_class = "context", instruction, forward_to;
  std::vector<std::string> meta;
  double timeout = 120;
  bool json = false;
};

absl::StatusOr<v1::Envelope> BuildEnvelope(const SendFlags& f) {
  if (f.to.empty() == f.topic.empty()) {
    return absl::InvalidArgumentError("give exactly one of --to AGENT or --topic TOPIC");
  }
  absl::StatusOr<v1::MessageClass> cls = wire::ParseMessageClass(f.message_class);
  if (!cls.ok()) return cls.status();
  absl::StatusOr<std::map<std::string, std::string>> meta = ParseMetadata(f.meta);
  if (!meta.ok()) return meta.status();
  v1::Envelope e;
  if (!f.to.empty()) e.mutable_recipient()->set_agent_id(f.to);
  if (!f.topic.empty()) e.mutable_recipient()->set_topic(f.topic);
  e.set_message_class(*cls);
  e.set_text(f.text);
  for (const auto& [k, v] : *meta) (*e.mutable_metadata())[k] = v;
  if (!f.instruction.empty())
    (*e.mutable_metadata())[agent::node::kMetaInstruction] = f.instruction;
  if (!f.forward_to.empty()) {
    (*e.mutable_metadata())[agent::node::kMetaForwardTo] = f.forward_to;
    (*e.mutable_metadata())[agent::node::kMetaClass] = v1::MessageClass_Name(*cls);
  }
  return e;
}

// Prints `s` (reason by name; under --json as {"error": {"reason", "code", "detail"}} on
// stdout) and returns the exit code: 2 for bad input, else 1.
int Fail(const absl::Status& s, bool json = false) {
  const std::string reason = wire::HasReason(s) ? wire::ReasonName(wire::ReasonOf(s)) : "";
  if (json) {
    nlohmann::json j;
    j["error"] = {{"reason", reason},
                  {"code", absl::StatusCodeToString(s.code())},
                  {"detail", wire::Describe(s)}};
    std::cout << j.dump() << "\n";
  } else {
    std::cerr << "error: " << wire::Describe(s) << "\n";
  }
  return wire::ReasonOf(s) == v1::INVALID_ARGUMENT ? 2 : 1;
}

// A relayed request's reply, hop by hop (metadata keys: agent/node/README.md).
void PrintHopReport(const v1::Envelope& reply) {
  auto m = [&reply](const std::string& key) {
    auto it = reply.metadata().find(key);
    return it == reply.metadata().end() ? std::string("-") : it->second;
  };
  if (m("lb.error") != "-") std::cout << "error: " << m("lb.error") << "\n";
  std::cout << "  sender    " << m("lb.sender") << " (" << m("lb.sender_model") << ")\n"
            << "  receiver  " << m("lb.receiver") << " (" << m("lb.receiver_model") << ")\n"
            << "  on the wire: " << m("lb.sent_form");
  if (m("lb.sent_form").find("latent") != std::string::npos) {
    std::cout << ", " << m("lb.soft_tokens_sent") << " soft tokens, " << m("lb.latent_bytes")
              << " bytes from the sender, " << m("lb.received_latent_bytes")
              << " bytes delivered (translated)";
  }
  if (m("lb.sent_form").find("text") != std::string::npos) {
    std::cout << ", " << m("lb.text_bytes") << " bytes of text";
  }
  std::cout << "\n  received as: " << m("lb.received_form") << "\n"
            << "  hop timings (ms):\n"
            << "    sender prefill to tap layer    " << m("lb.encode_ms") << "\n"
            << "    sender codec (quantize)        " << m("lb.codec_ms") << "\n"
            << "    sender writing text            " << m("lb.write_ms") << "\n"
            << "    transit (broker, bridge, wire) " << m("lb.transit_ms") << "\n"
            << "    receiver decode                " << m("lb.decode_ms") << "\n"
            << "    receiver prefill (reading)     " << m("lb.prefill_ms") << "\n"
            << "    receiver generation (all)      " << m("lb.generate_ms") << "\n"
            << "    request round trip at sender   " << m("lb.request_ms") << "\n";
  if (m("lb.sent_text") != "-" && !m("lb.sent_text").empty()) {
    std::cout << "  text the sender wrote: " << m("lb.sent_text") << "\n";
  }
  std::cout << "  receiver's output: " << reply.text() << "\n";
}

int RunSend(const SendFlags& f, bool request) {
  absl::StatusOr<v1::Envelope> e = BuildEnvelope(f);
  if (!e.ok()) return Fail(e.status(), f.json);
  absl::StatusOr<agent::ClientOptions> options = ToClientOptions(f.conn);
  if (!options.ok()) return Fail(options.status(), f.json);
  spdlog::set_level(spdlog::level::warn);
  // The message's trace starts here when OTEL_* names an endpoint (docs/TRACING.md); the
  // tracer outlives the client and flushes on return.
  absl::StatusOr<std::unique_ptr<telemetry::Tracer>> tracer =
      telemetry::TracerFromEnvironment("latentbus-cli", options->agent_id);
  if (!tracer.ok()) return Fail(absl::InvalidArgumentError(tracer.status().message()), f.json);
  options->tracer = tracer->get();
  absl::StatusOr<std::unique_ptr<agent::Client>> client = agent::Client::Connect(*options);
  if (!client.ok()) return Fail(client.status(), f.json);
  if (!request) {
    absl::StatusOr<v1::SendResult> r = (*client)->Send(*e, absl::Seconds(f.timeout));
    if (!r.ok()) return Fail(r.status(), f.json);
    nlohmann::json j;
    j["message_id"] = r->message_id();
    j["recipients"] = nlohmann::json::array();
    for (const v1::RecipientOutcome& o : r->recipients()) {
      j["recipients"].push_back(
          {{"agent_id", o.agent_id()}, {"form", FormName(o.form())}, {"reason", o.reason()}});
    }
    if (f.json) {
      std::cout << j.dump() << "\n";
    } else {
      std::cout << "sent " << r->message_id() << " to";
      for (const v1::RecipientOutcome& o : r->recipients()) {
        std::cout << " " << o.agent_id() << " (" << FormName(o.form()) << ")";
      }
      std::cout << "\n";
    }
    return 0;
  }
  absl::StatusOr<v1::Envelope> reply = (*client)->Request(*e, absl::Seconds(f.timeout));
  if (!reply.ok()) return Fail(reply.status(), f.json);
  if (f.json) {
    std::cout << EnvelopeJson(*reply).dump() << "\n";
  } else if (reply->metadata().contains("lb.sent_form")) {
    PrintHopReport(*reply);
  } else {
    std::cout << reply->text() << "\n";
    std::map<std::string, std::string> sorted(reply->metadata().begin(), reply->metadata().end());
    for (const auto& [k, v] : sorted) std::cout << "  " << k << ": " << v << "\n";
  }
  return 0;
}

// ---- latentbus tail --------------------------------------------------------------

struct TailFlags {
  ConnectionFlags conn;
  std::vector<std::string> topics;
  int count = 0;
  double timeout = 0;
  bool json = false;
};

int RunTail(const TailFlags& f) {
  absl::StatusOr<agent::ClientOptions> options = ToClientOptions(f.conn);
  if (!options.ok()) return Fail(options.status());
  options->topics = f.topics;
  sigset_t stop = BlockStopSignals();
  absl::StatusOr<std::unique_ptr<agent::Client>> client = agent::Client::Connect(*options);
  if (!client.ok()) return Fail(client.status());
  std::cerr << "tailing as " << options->agent_id << " (topics:";
  for (const std::string& t : f.topics) std::cerr << " " << t;
  std::cerr << "); Ctrl-C stops\n";
  agent::Client* c = client->get();
  const absl::Time deadline =
      f.timeout > 0 ? absl::Now() + absl::Seconds(f.timeout) : absl::InfiniteFuture();
  int seen = 0;
  std::atomic<bool> stopping{false};  // a stop signal: Close() leaves status() OK
  RunUntilStopSignal(
      stop,
      [&] {
        while (f.count == 0 || seen < f.count) {
          std::optional<v1::Envelope> m = c->Receive(absl::Milliseconds(200));
          if (!m) {
            if (stopping || !c->status().ok()) break;
            if (absl::Now() > deadline) break;
            continue;
          }
          ++seen;
          if (f.json) {
            std::cout << EnvelopeJson(*m).dump() << std::endl;
          } else {
            std::cout << "[" << m->sender_id() << " -> " << options->agent_id << "] "
                      << v1::MessageClass_Name(m->message_class()) << " "
                      << FormName(m->delivered_form()) << ": " << m->text() << std::endl;
          }
          c->Ack(*m);
        }
      },
      [&](int) {
        stopping = true;
        c->Close();
      });
  absl::Status end = c->status();
  if (!end.ok()) return Fail(end);
  return (f.count > 0 && seen < f.count) ? 1 : 0;
}

}  // namespace

void RegisterAgentCommands(CLI::App& app, RunFn* run) {
  {
    auto f = std::make_shared<AgentFlags>();
    CLI::App* cmd = app.add_subcommand(
        "agent",
        "Run an agent: host one model, register it with the broker, read every message "
        "(soft tokens or text), reply when asked, relay on request. SIGTERM/SIGINT stop it.");
    AddConnectionFlags(cmd, &f->conn, "agent id to register (required)");
    cmd->add_option("--model", f->o.model_path,
                    "GGUF file or Hugging Face folder, or a file name in the model cache")
        ->required()
        ->transform(ModelPath());
    cmd->add_option("--layer", f->o.tap_layer, "tap layer for latents; -1 = num_layers / 3")
        ->capture_default_str();
    cmd->add_option("--encoding", f->o.send_encoding, "encoding of latents this agent sends")
        ->capture_default_str();
    cmd->add_option("--receive-encoding", f->o.receive_encoding,
                    "encoding the broker delivers latents to this agent in")
        ->capture_default_str();
    cmd->add_option("--max-soft-tokens", f->o.max_soft_tokens, "longest latent message")
        ->capture_default_str();
    cmd->add_option("--role", f->o.role, "system text of the agent's prompt")
        ->capture_default_str();
    cmd->add_option("--instruction", f->o.instruction,
                    "what the agent does with a message without its own instruction")
        ->capture_default_str();
    cmd->add_option("--max-new-tokens", f->o.max_new_tokens, "longest reply")
        ->capture_default_str();
    cmd->add_option("--text-max-tokens", f->o.text_max_tokens,
                    "longest message the model writes on the text path")
        ->capture_default_str();
    cmd->add_option("--topic", f->topics, "topic to subscribe to (repeatable)");
    cmd->add_option("--threads", f->threads, "libtorch threads; 0 = one per core")
        ->capture_default_str();
    cmd->add_option("--device", f->device, "cpu, cuda, cuda:N")->capture_default_str();
    cmd->add_option("--ready-file", f->ready_file,
                    "written once registered (readiness probes), removed on exit");
    cmd->callback([f, run] { *run = [f] { return RunAgent(*f); }; });
  }
  for (bool request : {false, true}) {
    auto f = std::make_shared<SendFlags>();
    CLI::App* cmd = app.add_subcommand(
        request ? "request" : "send",
        request ? "Send a text message and print the reply (a text-only client). With "
                  "--forward-to, the receiving agent relays the text to another agent as its "
                  "own message (latent or text, as routing decides) and returns that reply with "
                  "the timings of both hops."
                : "Send a text message to an agent or a topic (a text-only client).");
    AddConnectionFlags(cmd, &f->conn, "client id (default cli-PID)");
    cmd->add_option("--to", f->to, "recipient agent id");
    cmd->add_option("--topic", f->topic, "recipient topic");
    cmd->add_option("--text", f->text, "message text")->required();
    cmd->add_option("--class", f->message_class, "context, reasoning, instruction, result, control")
        ->capture_default_str();
    cmd->add_option("--instruction", f->instruction, "what the reading agent should do with it");
    cmd->add_option("--meta", f->meta, "metadata key=value (repeatable)");
    cmd->add_option("--timeout", f->timeout, "seconds")->capture_default_str();
    cmd->add_flag("--json", f->json, "print JSON");
    if (request) cmd->add_option("--forward-to", f->forward_to, "agent the receiver relays to");
    cmd->callback([f, run, request] { *run = [f, request] { return RunSend(*f, request); }; });
  }
  {
    auto f = std::make_shared<TailFlags>();
    CLI::App* cmd = app.add_subcommand(
        "tail", "Print messages sent to this client (by --id) or its --topic subscriptions.");
    AddConnectionFlags(cmd, &f->conn, "client id to receive as (default cli-PID)");
    cmd->add_option("--topic", f->topics, "topic to subscribe to (repeatable)");
    cmd->add_option("--count", f->count, "exit after N messages (0 = until Ctrl-C)")
        ->capture_default_str();
    cmd->add_option("--timeout", f->timeout, "exit after N seconds (0 = never)")
        ->capture_default_str();
    cmd->add_flag("--json", f->json, "one JSON object per line");
    cmd->callback([f, run] { *run = [f] { return RunTail(*f); }; });
  }
}

}  // namespace latentbus::cli
