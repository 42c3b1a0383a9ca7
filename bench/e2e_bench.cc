#include "bench/e2e_bench.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iomanip>

#include "absl/strings/str_cat.h"
#include "agent/node/agent.h"
#include "bridge/bridge_artifact.h"
#include "bridge/corpus.h"
#include "bridge/fit.h"
#include "broker/artifact_bridge.h"
#include "broker/server.h"
#include "calibrate/calibrate.h"
#include "codec/packet_proto.h"

namespace latentbus::bench {
namespace {

using Clock = std::chrono::steady_clock;
using agent::node::Agent;

double MsSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n == 0 ? 0 : (n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]));
}

absl::StatusOr<std::unique_ptr<Agent>> StartAgent(const std::string& id, const std::string& path,
                                                  int layer, int port, const E2EBenchOptions& o) {
  agent::node::AgentOptions a;
  a.client.address = absl::StrCat("127.0.0.1:", port);
  a.client.agent_id = id;
  a.model_path = path;
  a.load.threads = o.threads;
  a.load.device = o.device;
  a.tap_layer = layer;
  a.send_encoding = o.encoding;
  a.receive_encoding = o.receive_encoding;
  a.max_new_tokens = 1;  // the receiver's first output token ends the measurement
  return Agent::Start(a);
}

// Fits sender -> receiver on the first `items` corpus items and loads it into the broker.
absl::StatusOr<nlohmann::json> FitBridge(const Agent& sender, const Agent& receiver,
                                         const E2EBenchOptions& o, broker::Broker* broker,
                                         std::ostream* progress) {
  absl::StatusOr<std::vector<bridge::CorpusItem>> items =
      bridge::ReadCorpus(o.corpus, static_cast<size_t>(o.fit_items));
  if (!items.ok()) return items.status();
  *progress << "e2e: fitting an affine bridge on " << items->size() << " corpus items ...\n";
  absl::StatusOr<bridge::ActivationFile> src =
      calibrate::Calibrate(sender.model(), *items, {{o.sender_layer}, o.corpus, nullptr});
  if (!src.ok()) return src.status();
  absl::StatusOr<bridge::ActivationFile> dst =
      calibrate::Calibrate(receiver.model(), *items, {{o.receiver_layer}, o.corpus, nullptr});
  if (!dst.ok()) return dst.status();
  absl::StatusOr<bridge::BridgeArtifact> fitted = bridge::FitBridge(*src, *dst, o.sender_layer, {});
  if (!fitted.ok()) return fitted.status();
  const std::string path =
      (std::filesystem::temp_directory_path() / absl::StrCat("latentbus-e2e-", getpid(), ".bridge"))
          .string();
  if (absl::Status s = bridge::WriteBridgeArtifact(path, *fitted); !s.ok()) return s;
  v1::LoadBridgeRequest request;
  request.set_path(path);
  absl::StatusOr<broker::BridgeInfo> info = broker->bridges().Load(request);
  std::remove(path.c_str());
  if (!info.ok()) return info.status();
  return nlohmann::json{{"source", absl::StrCat("fitted in this run on ", items->size(),
                                                " corpus items (timing does not depend on "
                                                "the fit)")}};
}

// A text of about `tokens` tokens of the sender's tokenizer, cut from the corpus.
absl::StatusOr<std::string> ContentOf(const Agent& sender, const std::string& corpus, int tokens) {
  absl::StatusOr<std::vector<bridge::CorpusItem>> items = bridge::ReadCorpus(corpus, 400);
  if (!items.ok()) return items.status();
  std::string text;
  for (const bridge::CorpusItem& item : *items) {
    absl::StrAppend(&text, text.empty() ? "" : " ", item.text);
    absl::StatusOr<agent::llm::EncodeResult> t = sender.model().Tokenize(text, false);
    if (!t.ok()) return t.status();
    if (static_cast<int>(t->token_ids.size()) >= tokens) {
      std::vector<int32_t> ids(t->token_ids.begin(), t->token_ids.begin() + tokens);
      return sender.model().Detokenize(ids);
    }
  }
  return absl::InvalidArgumentError(absl::StrCat("the corpus is shorter than ", tokens, " tokens"));
}

struct Sample {
  double latent_ms, bus_ms, sender_prefill_ms, codec_ms, transport_ms, decode_ms, read_ms;
  double text_ms, write_ms, text_transport_ms, text_read_ms;
  size_t latent_bytes, text_bytes;
};

absl::StatusOr<Sample> RunOnce(Agent& sender, Agent& receiver, const std::string& content,
                               int tokens) {
  Sample s{};
  v1::Address to;
  to.set_agent_id("receiver");
  // Latent path.
  auto t0 = Clock::now();
  agent::node::SendReport report;
  absl::StatusOr<v1::LatentPacket> packet = sender.EncodeLatent(content, &report);
  if (!packet.ok()) return packet.status();
  v1::Envelope e;
  *e.mutable_recipient() = to;
  e.set_message_class(v1::MESSAGE_CLASS_CONTEXT);
  *e.mutable_latent() = *std::move(packet);
  auto sent = Clock::now();
  absl::StatusOr<v1::SendResult> r = sender.client().Send(e);
  if (!r.ok()) return r.status();
  if (r->recipients_size() != 1 || r->recipients(0).form() != v1::PAYLOAD_FORM_LATENT) {
    return absl::FailedPreconditionError("the broker did not route the latent through a bridge");
  }
  std::optional<v1::Envelope> got = receiver.client().Receive(absl::Seconds(60));
  if (!got) return absl::DeadlineExceededError("no delivery within 60 s");
  s.transport_ms = MsSince(sent);
  receiver.client().Ack(*got);
  absl::StatusOr<agent::node::ReadReport> read = receiver.Read(*got);
  if (!read.ok()) return read.status();
  s.latent_ms = MsSince(t0);
  s.sender_prefill_ms = report.encode_ms;
  s.codec_ms = report.codec_ms;
  s.decode_ms = read->decode_ms;
  s.read_ms = read->generate_ms;
  s.bus_ms = s.codec_ms + s.transport_ms + s.decode_ms;
  s.latent_bytes = report.latent_bytes;
  // Text path: the sender's model writes exactly `tokens` tokens.
  t0 = Clock::now();
  agent::node::SendReport text_report;
  absl::StatusOr<std::string> written = sender.WriteText(content, &text_report, tokens, true);
  if (!written.ok()) return written.status();
  v1::Envelope te;
  *te.mutable_recipient() = to;
  te.set_message_class(v1::MESSAGE_CLASS_CONTEXT);
  te.set_text(*written);
  sent = Clock::now();
  r = sender.client().Send(te);
  if (!r.ok()) return r.status();
  got = receiver.client().Receive(absl::Seconds(60));
  if (!got) return absl::DeadlineExceededError("no delivery within 60 s");
  s.text_transport_ms = MsSince(sent);
  receiver.client().Ack(*got);
  read = receiver.Read(*got);
  if (!read.ok()) return read.status();
  s.text_ms = MsSince(t0);
  s.write_ms = text_report.write_ms;
  s.text_read_ms = read->generate_ms;
  s.text_bytes = got->text().size();
  return s;
}

}  // namespace

absl::StatusOr<nlohmann::json> RunE2EBench(const E2EBenchOptions& o, std::ostream* progress) {
  if (o.reps < 1) return absl::InvalidArgumentError("--reps must be at least 1");
  for (int n : o.lengths) {
    if (n < 1 || n > 512) return absl::InvalidArgumentError("message lengths must be in [1, 512]");
  }
  broker::BrokerOptions bo;
  bo.config.listen_address = "127.0.0.1:0";
  bo.config.metrics_address = "";
  bo.config.limits.rate_per_second = 0;
  bo.config.policy.min_fidelity = 0;  // timing: any fitted bridge carries latents
  bo.config.drain_timeout_seconds = 0;
  bo.config.translation.device = o.device;
  bo.bridge_loader = broker::ArtifactBridgeLoader(bo.config.translation.kernels, o.device);
  absl::StatusOr<std::unique_ptr<broker::BrokerServer>> server =
      broker::BrokerServer::Start(std::move(bo));
  if (!server.ok()) return server.status();
  const int port = (*server)->port();
  *progress << "e2e: loading " << o.sender_model << " and " << o.receiver_model << " ...\n";
  absl::StatusOr<std::unique_ptr<Agent>> sender =
      StartAgent("sender", o.sender_model, o.sender_layer, port, o);
  if (!sender.ok()) return sender.status();
  absl::StatusOr<std::unique_ptr<Agent>> receiver =
      StartAgent("receiver", o.receiver_model, o.receiver_layer, port, o);
  if (!receiver.ok()) return receiver.status();

  nlohmann::json bridge_json;
  if (!o.bridge_dir.empty()) {
    absl::StatusOr<int> loaded =
        broker::LoadBridgeDirectory(o.bridge_dir, &(*server)->broker().bridges());
    if (!loaded.ok()) return loaded.status();
    bridge_json["source"] = o.bridge_dir;
  } else {
    absl::StatusOr<nlohmann::json> fitted =
        FitBridge(**sender, **receiver, o, &(*server)->broker(), progress);
    if (!fitted.ok()) return fitted.status();
    bridge_json = *fitted;
  }
  bool found = false;
  for (const broker::BridgeInfo& b : (*server)->broker().bridges().List()) {
    if (b.src.model_id == (*sender)->spec().model_id() &&
        b.dst.model_id == (*receiver)->spec().model_id()) {
      bridge_json["id"] = b.id;
      bridge_json["kind"] = b.kind;
      bridge_json["cosine"] = b.cosine();
      found = true;
    }
  }
  if (!found) {
    return absl::NotFoundError(absl::StrCat("no bridge ", (*sender)->spec().model_id(), " -> ",
                                            (*receiver)->spec().model_id(), " loaded"));
  }

  nlohmann::json result;
  result["command"] = "latentbus bench e2e";
  result["device"] = o.device;
  result["sender"] = {
      {"model", (*sender)->spec().model_id()}, {"layer", o.sender_layer}, {"encoding", o.encoding}};
  result["receiver"] = {{"model", (*receiver)->spec().model_id()},
                        {"receive_encoding", o.receive_encoding}};
  result["bridge"] = bridge_json;
  result["threads"] = (*sender)->model().info().threads;
  result["reps"] = o.reps;
  result["lengths"] = nlohmann::json::array();
  for (int n : o.lengths) {
    absl::StatusOr<std::string> content = ContentOf(**sender, o.corpus, n);
    if (!content.ok()) return content.status();
    std::vector<Sample> samples;
    // One untimed warm-up run before the first length (allocator, caches, thread pools),
    // then the repetitions.
    for (int rep = (n == o.lengths.front() ? 0 : 1); rep <= o.reps; ++rep) {
      absl::StatusOr<Sample> s = RunOnce(**sender, **receiver, *content, n);
      if (!s.ok()) return s.status();
      if (rep > 0) samples.push_back(*s);
      *progress << "e2e: " << n << " tokens, "
                << (rep == 0 ? "warm-up" : "rep " + std::to_string(rep)) << ": latent "
                << std::fixed << std::setprecision(1) << s->latent_ms << " ms, text " << s->text_ms
                << " ms\n";
    }
    auto med = [&samples](double Sample::*field) {
      std::vector<double> v;
      for (const Sample& s : samples) v.push_back(s.*field);
      return Median(v);
    };
    const double latent = med(&Sample::latent_ms), text = med(&Sample::text_ms);
    const double bus = med(&Sample::bus_ms);
    result["lengths"].push_back({{"tokens", n},
                                 {"latent_ms", latent},
                                 {"text_ms", text},
                                 {"speedup", latent > 0 ? text / latent : 0},
                                 {"bus_ms", bus},
                                 {"bus_share", latent > 0 ? bus / latent : 0},
                                 {"latent_bytes", samples.front().latent_bytes},
                                 {"text_bytes", samples.front().text_bytes},
                                 {"sender_prefill_ms", med(&Sample::sender_prefill_ms)},
                                 {"codec_ms", med(&Sample::codec_ms)},
                                 {"transport_ms", med(&Sample::transport_ms)},
                                 {"decode_ms", med(&Sample::decode_ms)},
                                 {"receiver_read_ms", med(&Sample::read_ms)},
                                 {"text_write_ms", med(&Sample::write_ms)},
                                 {"text_transport_ms", med(&Sample::text_transport_ms)},
                                 {"text_read_ms", med(&Sample::text_read_ms)}});
  }
  (*receiver)->client().Close();
  (*sender)->client().Close();
  (*server)->Shutdown();
  return result;
}

void PrintE2EBenchTable(const nlohmann::json& r, std::ostream& out) {
  out << "latentbus bench e2e: " << r["sender"]["model"].get<std::string>() << " (layer "
      << r["sender"]["layer"] << ", " << r["sender"]["encoding"].get<std::string>() << ") -> "
      << r["receiver"]["model"].get<std::string>() << " on "
      << r.value("device", std::string("cpu")) << " via bridge "
      << r["bridge"].value("id", std::string("?")) << " (cosine " << std::setprecision(3)
      << r["bridge"].value("cosine", 0.0) << "; " << r["bridge"]["source"].get<std::string>()
      << ")\n"
      << "medians of " << r["reps"] << " runs, " << r["threads"] << " libtorch threads\n\n";
  out << std::left << std::setw(8) << "tokens" << std::right << std::setw(12) << "latent ms"
      << std::setw(12) << "text ms" << std::setw(10) << "speedup" << std::setw(10) << "bus ms"
      << std::setw(11) << "bus share" << std::setw(14) << "latent bytes" << std::setw(12)
      << "text bytes"
      << "\n";
  out << std::fixed;
  for (const nlohmann::json& l : r["lengths"]) {
    out << std::left << std::setw(8) << l["tokens"].get<int>() << std::right << std::setprecision(1)
        << std::setw(12) << l["latent_ms"].get<double>() << std::setw(12)
        << l["text_ms"].get<double>() << std::setw(9) << std::setprecision(1)
        << l["speedup"].get<double>() << "x" << std::setw(10) << std::setprecision(2)
        << l["bus_ms"].get<double>() << std::setw(10) << std::setprecision(2)
        << 100.0 * l["bus_share"].get<double>() << "%" << std::setw(14)
        << l["latent_bytes"].get<size_t>() << std::setw(12) << l["text_bytes"].get<size_t>()
        << "\n";
  }
  out << "\nlatent = sender prefill to the tap layer + codec + broker/bridge/transport + "
         "receiver decode + receiver prefill and first token;\n"
         "text (baseline) = sender writes the message (exactly N tokens) + broker/transport + "
         "receiver prefill and first token.\n"
         "bus = codec + send->delivery (broker, bridge, transport) + decode.\n";
  for (const nlohmann::json& l : r["lengths"]) {
    out << "  " << l["tokens"].get<int>() << " tokens: sender prefill " << std::setprecision(1)
        << l["sender_prefill_ms"].get<double>() << " ms, codec " << std::setprecision(2)
        << l["codec_ms"].get<double>() << " ms, send->delivery " << l["transport_ms"].get<double>()
        << " ms, decode " << l["decode_ms"].get<double>() << " ms, receiver read "
        << std::setprecision(1) << l["receiver_read_ms"].get<double>() << " ms | text: write "
        << l["text_write_ms"].get<double>() << " ms, send->delivery " << std::setprecision(2)
        << l["text_transport_ms"].get<double>() << " ms, read " << std::setprecision(1)
        << l["text_read_ms"].get<double>() << " ms\n";
  }
}

}  // namespace latentbus::bench
