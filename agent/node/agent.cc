#include "agent/node/agent.h"

#include <chrono>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "agent/node/prompt.h"
#include "codec/cuda/device_codec.h"
#include "codec/packet.h"
#include "codec/packet_proto.h"
#include "proto/error_reason.h"
#include "spdlog/spdlog.h"

namespace latentbus::agent::node {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string RouteKey(const v1::Address& to, v1::MessageClass message_class) {
  return absl::StrCat(
      to.has_topic() ? "topic:" : "agent:", to.has_topic() ? to.topic() : to.agent_id(), "/",
      static_cast<int>(message_class));
}

std::string Ms(double ms) { return absl::StrFormat("%.2f", ms); }

double MsFromTimestamp(const google::protobuf::Timestamp& ts) {
  return static_cast<double>(ts.seconds()) * 1e3 + static_cast<double>(ts.nanos()) / 1e6;
}

// A child of `parent` that ran `ms` milliseconds from `start` (phases the model code
// timed itself). Returns the end.
absl::Time RecordPhase(const telemetry::Span& parent, const char* name, absl::Time start,
                       double ms) {
  const absl::Time end = start + absl::Microseconds(static_cast<int64_t>(ms * 1e3));
  if (parent.recording()) parent.StartChild(name, telemetry::SpanKind::kInternal, start).End(end);
  return end;
}

// "context", "reasoning", ... as the broker's spans and metrics name a class.
std::string ClassName(v1::MessageClass c) {
  std::string name =
      v1::MessageClass_Name(c == v1::MESSAGE_CLASS_UNSPECIFIED ? v1::MESSAGE_CLASS_CONTEXT : c);
  absl::string_view rest = name;
  absl::ConsumePrefix(&rest, "MESSAGE_CLASS_");
  return absl::AsciiStrToLower(rest);
}

const char* FormOf(const SendReport& r) {
  return r.sent_latent ? (r.sent_text ? "latent+text" : "latent") : "text";
}

}  // namespace

v1::ModelSpec MakeModelSpec(const llm::ModelInfo& info, int layer,
                            const codec::Encoding& receive_encoding, uint32_t max_soft_tokens) {
  v1::ModelSpec spec;
  spec.set_model_id(info.model_id);
  spec.set_fingerprint(info.fingerprint);
  spec.set_family(info.family);
  spec.set_hidden_size(static_cast<uint32_t>(info.hidden_size));
  spec.set_tap_layer(static_cast<uint32_t>(layer));
  spec.set_embedding_size(static_cast<uint32_t>(info.embedding_size));
  *spec.mutable_preferred_encoding() = codec::EncodingToProto(receive_encoding);
  spec.set_max_soft_tokens(max_soft_tokens);
  spec.set_num_layers(static_cast<uint32_t>(info.num_layers));
  spec.set_vocab_size(static_cast<uint32_t>(info.vocab_size));
  return spec;
}

absl::StatusOr<std::unique_ptr<Agent>> Agent::Start(AgentOptions options) {
  absl::StatusOr<codec::Encoding> send = codec::ParseEncoding(options.send_encoding);
  if (!send.ok()) return send.status();
  absl::StatusOr<codec::Encoding> receive = codec::ParseEncoding(options.receive_encoding);
  if (!receive.ok()) return receive.status();
  const auto start = Clock::now();
  absl::StatusOr<std::unique_ptr<llm::Model>> model =
      llm::Model::Load(options.model_path, options.load);
  if (!model.ok()) return model.status();
  const llm::ModelInfo& info = (*model)->info();
  int layer = options.tap_layer < 0 ? static_cast<int>(info.num_layers / 3) : options.tap_layer;
  if (layer < 1 || layer >= info.num_layers) {
    return absl::InvalidArgumentError(absl::StrCat("tap layer ", layer, " not in [1, ",
                                                   info.num_layers - 1, "] for ", info.model_id));
  }
  options.tap_layer = layer;
  absl::StatusOr<llm::EncodeResult> bos = (*model)->Tokenize("", /*add_bos=*/true);
  if (!bos.ok()) return bos.status();
  const bool adds_bos = !bos->token_ids.empty();
  spdlog::info("agent {}: loaded {} ({} layers, d={}) in {} ms; tap layer {}",
               options.client.agent_id, info.model_id, info.num_layers, info.hidden_size,
               Ms(MsSince(start)), layer);
  v1::ModelSpec spec = MakeModelSpec(info, layer, *receive, options.max_soft_tokens);
  options.client.model = spec;
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options.client);
  if (!client.ok()) return client.status();
  return std::unique_ptr<Agent>(new Agent(std::move(options), *std::move(model), *std::move(client),
                                          std::move(spec), *send, adds_bos));
}

Agent::Agent(AgentOptions options, std::unique_ptr<llm::Model> model,
             std::unique_ptr<Client> client, v1::ModelSpec spec, codec::Encoding send_encoding,
             bool adds_bos)
    : options_(std::move(options)),
      model_(std::move(model)),
      client_(std::move(client)),
      spec_(std::move(spec)),
      send_encoding_(send_encoding),
      adds_bos_(adds_bos) {}

Agent::~Agent() { client_->Close(); }

absl::StatusOr<std::vector<v1::RouteDecision>> Agent::Route(const v1::Address& to,
                                                            v1::MessageClass message_class) {
  const std::string key = RouteKey(to, message_class);
  {
    absl::MutexLock lock(&route_mu_);
    auto it = routes_.find(key);
    if (it != routes_.end() && it->second.expires > absl::Now()) return it->second.decisions;
  }
  v1::RouteQueryRequest q;
  *q.mutable_recipient() = to;
  q.set_message_class(message_class);
  q.set_model_id(spec_.model_id());
  q.set_has_latent(true);
  q.set_has_text(false);
  absl::StatusOr<v1::RouteQueryResponse> r = client_->RouteQuery(q);
  if (!r.ok()) return r.status();
  std::vector<v1::RouteDecision> decisions(r->decisions().begin(), r->decisions().end());
  absl::MutexLock lock(&route_mu_);
  routes_[key] = CachedRoute{decisions, absl::Now() + options_.route_cache_ttl};
  return decisions;
}

void Agent::ForgetRoute(const v1::Address& to, v1::MessageClass message_class) {
  absl::MutexLock lock(&route_mu_);
  routes_.erase(RouteKey(to, message_class));
}

absl::StatusOr<v1::LatentPacket> Agent::EncodeLatent(const std::string& content,
                                                     SendReport* report) const {
  // Prefill and quantization in one call: on a GPU the hidden states are quantized there
  // and only the packet's bytes come back (agent/llm/model.h EncodeLatent).
  absl::StatusOr<llm::LatentResult> latent =
      model_->EncodeLatent(content, options_.tap_layer, send_encoding_, /*drop_bos_row=*/adds_bos_);
  if (!latent.ok()) return latent.status();
  report->encode_ms = latent->prefill_seconds * 1e3;
  const auto start = Clock::now();
  const uint32_t soft_tokens = latent->packet.shape[0];
  if (soft_tokens > options_.max_soft_tokens) {
    return absl::InvalidArgumentError(absl::StrCat("content is ", soft_tokens, " tokens; at most ",
                                                   options_.max_soft_tokens,
                                                   " soft tokens per message"));
  }
  codec::Packet* packet = &latent->packet;
  packet->model_id = spec_.model_id();
  packet->model_fingerprint = spec_.fingerprint();
  packet->space = codec::Space::kHidden;
  packet->layer = static_cast<uint32_t>(options_.tap_layer);
  v1::LatentPacket proto = codec::ToProto(std::move(*packet));
  report->codec_ms = latent->codec_seconds * 1e3 + MsSince(start);
  report->soft_tokens = soft_tokens;
  report->latent_bytes = codec::WireBytes(proto);
  return proto;
}

absl::StatusOr<std::string> Agent::WriteText(const std::string& content, SendReport* report,
                                             int max_tokens, bool exact) const {
  const auto start = Clock::now();
  absl::StatusOr<std::vector<llm::PromptSegment>> prompt =
      BuildWritePrompt(*model_, options_.role, content);
  if (!prompt.ok()) return prompt.status();
  llm::GenerateOptions g;
  g.max_new_tokens = max_tokens >= 0 ? max_tokens : options_.text_max_tokens;
  g.ignore_eos = exact;
  g.add_bos = false;
  absl::StatusOr<llm::GenerateResult> r = model_->Generate(*prompt, g);
  if (!r.ok()) return r.status();
  report->write_ms = MsSince(start);
  report->text_bytes = r->text.size();
  report->text = r->text;
  return r->text;
}

telemetry::Span Agent::StartSend(const v1::Address& to, v1::MessageClass message_class,
                                 const telemetry::SpanContext& trace) {
  telemetry::Span span = telemetry::StartSpan(options_.tracer, "latentbus.agent.send", trace,
                                              telemetry::SpanKind::kProducer);
  span.SetString("messaging.system", "latentbus");
  span.SetString("messaging.destination.name", to.has_topic() ? to.topic() : to.agent_id());
  span.SetString("latentbus.sender", client_->agent_id());
  span.SetString("latentbus.model.id", spec_.model_id());
  span.SetString("latentbus.message.class", ClassName(message_class));
  return span;
}

void Agent::EndSend(telemetry::Span& span, const SendReport& report,
                    const absl::Status& status) const {
  if (span.recording()) {
    span.SetString("messaging.message.id", report.message_id);
    span.SetString("latentbus.form", FormOf(report));
    if (report.sent_latent) {
      span.SetString("latentbus.encoding", options_.send_encoding);
      span.SetInt("latentbus.latent.bytes", static_cast<int64_t>(report.latent_bytes));
      span.SetInt("latentbus.latent.rows", report.soft_tokens);
    }
    if (report.sent_text)
      span.SetInt("latentbus.text.bytes", static_cast<int64_t>(report.text_bytes));
    span.SetString("latentbus.outcome", status.ok() ? "accepted"
                                        : wire::HasReason(status)
                                            ? wire::ReasonName(wire::ReasonOf(status))
                                            : absl::StatusCodeToString(status.code()));
    if (!status.ok()) span.SetError(wire::Describe(status));
  }
  span.End();
}

absl::StatusOr<std::string> Agent::WriteTraced(const std::string& content, SendReport* report,
                                               telemetry::Span* span) const {
  telemetry::Span write = span->StartChild("latentbus.sender.write");
  absl::StatusOr<std::string> written = WriteText(content, report);
  if (written.ok()) {
    write.SetInt("latentbus.text.bytes", static_cast<int64_t>(written->size()));
  } else {
    write.SetError(written.status().message());
  }
  return written;
}

absl::StatusOr<v1::Envelope> Agent::Compose(const v1::Address& to, const std::string& content,
                                            v1::MessageClass message_class,
                                            const std::map<std::string, std::string>& metadata,
                                            SendReport* report, telemetry::Span* span) {
  absl::StatusOr<std::vector<v1::RouteDecision>> route = Route(to, message_class);
  if (!route.ok()) return route.status();
  bool latent = false, text = false;
  for (const v1::RouteDecision& d : *route) {
    (d.form() == v1::PAYLOAD_FORM_LATENT ? latent : text) = true;
  }
  v1::Envelope e;
  *e.mutable_recipient() = to;
  e.set_message_class(message_class);
  e.set_message_id(NewMessageId());
  report->message_id = e.message_id();
  if (span->context().valid()) e.set_traceparent(span->Traceparent());
  for (const auto& [k, v] : metadata) (*e.mutable_metadata())[k] = v;
  if (latent) {
    const absl::Time start = absl::Now();
    absl::StatusOr<v1::LatentPacket> packet = EncodeLatent(content, report);
    if (!packet.ok()) return packet.status();
    // The sender's hidden states (prefill to the tap layer), then the codec.
    const absl::Time encoded =
        RecordPhase(*span, "latentbus.sender.prefill", start, report->encode_ms);
    RecordPhase(*span, "latentbus.sender.encode", encoded, report->codec_ms);
    *e.mutable_latent() = *std::move(packet);
    report->sent_latent = true;
  }
  if (text) {
    absl::StatusOr<std::string> written = WriteTraced(content, report, span);
    if (!written.ok()) return written.status();
    e.set_text(*std::move(written));
    report->sent_text = true;
  }
  return e;
}

absl::StatusOr<bool> Agent::AddTextIfNeeded(const absl::Status& result, const v1::Address& to,
                                            v1::MessageClass message_class,
                                            const std::string& content, v1::Envelope* e,
                                            SendReport* report, telemetry::Span* span) {
  if (result.ok() || wire::ReasonOf(result) != v1::NEEDS_TEXT || report->sent_text) return false;
  ForgetRoute(to, message_class);  // the routing changed since the cached query
  absl::StatusOr<std::string> written = WriteTraced(content, report, span);
  if (!written.ok()) return written.status();
  e->set_text(*std::move(written));
  report->sent_text = true;
  return true;
}

absl::StatusOr<SendReport> Agent::Send(const v1::Address& to, const std::string& content,
                                       v1::MessageClass message_class,
                                       const std::map<std::string, std::string>& metadata,
                                       const telemetry::SpanContext& trace) {
  SendReport report;
  telemetry::Span span = StartSend(to, message_class, trace);
  absl::StatusOr<v1::SendResult> r = [&]() -> absl::StatusOr<v1::SendResult> {
    absl::StatusOr<v1::Envelope> e = Compose(to, content, message_class, metadata, &report, &span);
    if (!e.ok()) return e.status();
    auto start = Clock::now();
    absl::StatusOr<v1::SendResult> sent = client_->Send(*e);
    absl::StatusOr<bool> resend =
        AddTextIfNeeded(sent.status(), to, message_class, content, &*e, &report, &span);
    if (!resend.ok()) return resend.status();
    if (*resend) {
      start = Clock::now();
      sent = client_->Send(*e);
    }
    report.send_ms = MsSince(start);
    return sent;
  }();
  EndSend(span, report, r.status());
  if (!r.ok()) return r.status();
  report.recipients.assign(r->recipients().begin(), r->recipients().end());
  return report;
}

absl::StatusOr<std::pair<SendReport, v1::Envelope>> Agent::Request(
    const std::string& to, const std::string& content, v1::MessageClass message_class,
    const std::map<std::string, std::string>& metadata, absl::Duration timeout,
    const telemetry::SpanContext& trace) {
  v1::Address address;
  address.set_agent_id(to);
  SendReport report;
  telemetry::Span span = StartSend(address, message_class, trace);
  span.SetBool("latentbus.expects_reply", true);
  absl::StatusOr<v1::Envelope> reply = [&]() -> absl::StatusOr<v1::Envelope> {
    absl::StatusOr<v1::Envelope> e =
        Compose(address, content, message_class, metadata, &report, &span);
    if (!e.ok()) return e.status();
    auto start = Clock::now();
    absl::StatusOr<v1::Envelope> answer = client_->Request(*e, timeout);
    absl::StatusOr<bool> resend =
        AddTextIfNeeded(answer.status(), address, message_class, content, &*e, &report, &span);
    if (!resend.ok()) return resend.status();
    if (*resend) {
      start = Clock::now();
      answer = client_->Request(*e, timeout);
    }
    report.send_ms = MsSince(start);
    return answer;
  }();
  EndSend(span, report, reply.status());
  if (!reply.ok()) return reply.status();
  return std::make_pair(report, *std::move(reply));
}

absl::StatusOr<ReadReport> Agent::Read(const v1::Envelope& delivered) const {
  ReadReport report;
  ReadPrompt prompt;
  prompt.role = options_.role;
  auto it = delivered.metadata().find(kMetaInstruction);
  prompt.instruction = it != delivered.metadata().end() ? it->second : options_.instruction;
  if (delivered.has_latent()) {
    const auto start = Clock::now();
    absl::StatusOr<codec::Packet> packet = codec::FromProto(delivered.latent());
    if (!packet.ok()) return packet.status();
    if (packet->space != codec::Space::kInputEmbedding || packet->model_id != spec_.model_id()) {
      return absl::InvalidArgumentError(
          absl::StrCat("latent from ", delivered.sender_id(), " is not in ", spec_.model_id(),
                       "'s input-embedding space (model '", packet->model_id, "')"));
    }
    report.form = v1::PAYLOAD_FORM_LATENT;
    if (model_->info().device != "cpu" && codec::IsQuantized(packet->encoding.dtype) &&
        codec::cuda::Built()) {
      // Checked here, dequantized on the GPU as the prompt is built (PromptSegment::Latent):
      // decode_ms is the check, the dequantization counts in the read's generate time.
      if (absl::Status s = codec::ValidatePacket(*packet); !s.ok()) return s;
      report.decode_ms = MsSince(start);
      report.soft_tokens = packet->shape.empty() ? 0 : packet->shape[0];
      prompt.latent = *std::move(packet);
    } else {
      absl::StatusOr<codec::Tensor> soft = codec::Decode(*packet);
      if (!soft.ok()) return soft.status();
      report.decode_ms = MsSince(start);
      report.soft_tokens = soft->shape[0];
      prompt.soft = *std::move(soft);
    }
  } else {
    report.form = v1::PAYLOAD_FORM_TEXT;
    prompt.text = delivered.text();
  }
  absl::StatusOr<std::vector<llm::PromptSegment>> segments = BuildReadPrompt(*model_, prompt);
  if (!segments.ok()) return segments.status();
  llm::GenerateOptions g;
  g.max_new_tokens = options_.max_new_tokens;
  g.add_bos = false;
  const auto start = Clock::now();
  absl::StatusOr<llm::GenerateResult> r = model_->Generate(*segments, g);
  if (!r.ok()) return r.status();
  report.generate_ms = MsSince(start);
  report.prefill_ms = r->prefill_seconds * 1e3;
  report.prompt_tokens = r->prompt_tokens;
  report.output = r->text;
  return report;
}

telemetry::Span Agent::StartReceive(const v1::Envelope& m) const {
  std::optional<telemetry::SpanContext> parent = telemetry::ParseTraceparent(m.traceparent());
  telemetry::Span span = telemetry::StartSpan(options_.tracer, "latentbus.agent.receive",
                                              parent.value_or(telemetry::SpanContext{}),
                                              telemetry::SpanKind::kConsumer);
  if (!span.recording()) return span;
  span.SetString("messaging.system", "latentbus");
  span.SetString("messaging.message.id", m.message_id());
  span.SetString("latentbus.sender", m.sender_id());
  span.SetString("latentbus.recipient", client_->agent_id());
  span.SetString("latentbus.model.id", spec_.model_id());
  span.SetString("latentbus.form",
                 m.delivered_form() == v1::PAYLOAD_FORM_LATENT ? "latent" : "text");
  span.SetInt("latentbus.delivery.attempt", m.delivery_attempt());
  if (m.has_latent()) {
    span.SetInt("latentbus.latent.bytes", static_cast<int64_t>(codec::WireBytes(m.latent())));
  } else {
    span.SetInt("latentbus.text.bytes", static_cast<int64_t>(m.text().size()));
  }
  return span;
}

void Agent::RecordRead(const telemetry::Span& span, absl::Time start, absl::Time end,
                       const ReadReport& r) const {
  if (!span.recording()) return;
  RecordPhase(span, "latentbus.receiver.decode", start, r.decode_ms);
  // Generation ended as Read returned: prefill (reading the prompt), then the new tokens.
  const absl::Time generate_start =
      end - absl::Microseconds(static_cast<int64_t>(r.generate_ms * 1e3));
  telemetry::Span prefill =
      span.StartChild("latentbus.receiver.prefill", telemetry::SpanKind::kInternal, generate_start);
  prefill.SetInt("latentbus.prompt_tokens", r.prompt_tokens);
  prefill.SetInt("latentbus.latent.rows", r.soft_tokens);
  const absl::Time prefill_end =
      generate_start + absl::Microseconds(static_cast<int64_t>(r.prefill_ms * 1e3));
  prefill.End(prefill_end);
  telemetry::Span generate =
      span.StartChild("latentbus.receiver.generate", telemetry::SpanKind::kInternal, prefill_end);
  generate.SetInt("latentbus.output.bytes", static_cast<int64_t>(r.output.size()));
  generate.End(end);
}

void Agent::Handle(const v1::Envelope& m) {
  const double received_ms = absl::ToDoubleMilliseconds(absl::Now() - absl::UnixEpoch());
  telemetry::Span span = StartReceive(m);
  auto forward = m.metadata().find(kMetaForwardTo);
  v1::Envelope reply;
  // The reply (and a relay's request) continue this message's trace; without a tracer
  // the reply passes the received context on.
  if (span.context().valid()) {
    reply.set_traceparent(span.Traceparent());
  } else {
    reply.set_traceparent(m.traceparent());
  }
  reply.set_message_class(v1::MESSAGE_CLASS_RESULT);
  auto& meta = *reply.mutable_metadata();
  if (forward != m.metadata().end()) {
    // Relay: the received text becomes this agent's own message to `forward_to`.
    v1::MessageClass cls = v1::MESSAGE_CLASS_CONTEXT;
    auto c = m.metadata().find(kMetaClass);
    if (c != m.metadata().end() && !v1::MessageClass_Parse(c->second, &cls)) {
      cls = v1::MESSAGE_CLASS_CONTEXT;
    }
    std::map<std::string, std::string> pass;
    auto instr = m.metadata().find(kMetaInstruction);
    if (instr != m.metadata().end()) pass[kMetaInstruction] = instr->second;
    spdlog::info("agent {}: relaying {} from {} to {} as {}", client_->agent_id(), m.message_id(),
                 m.sender_id(), forward->second, v1::MessageClass_Name(cls));
    // The relay writes the received text as this agent's own message; a latent delivery
    // has none (the broker strips the text it replaced), and relaying nothing is not an
    // answer.
    absl::StatusOr<std::pair<SendReport, v1::Envelope>> r =
        m.text().empty()
            ? absl::StatusOr<std::pair<SendReport, v1::Envelope>>(absl::FailedPreconditionError(
                  "a relay needs the message's text, and it arrived as a latent: send the relay "
                  "request as text (a text-only client, or class reasoning)"))
            : Request(forward->second, m.text(), cls, pass, absl::Seconds(120), span.context());
    if (!r.ok()) {
      span.SetError(r.status().message());
      reply.set_text(
          absl::StrCat("relay to ", forward->second, " failed: ", r.status().ToString()));
      meta["lb.error"] = r.status().ToString();
    } else {
      const SendReport& s = r->first;
      reply.set_text(r->second.text());
      for (const auto& [k, v] : r->second.metadata()) meta[k] = v;  // the receiver's hop
      meta["lb.sender"] = client_->agent_id();
      meta["lb.sender_model"] = spec_.model_id();
      meta["lb.sent_form"] = s.sent_latent ? (s.sent_text ? "latent+text" : "latent") : "text";
      meta["lb.sent_text"] = s.text;
      meta["lb.encode_ms"] = Ms(s.encode_ms);
      meta["lb.codec_ms"] = Ms(s.codec_ms);
      meta["lb.write_ms"] = Ms(s.write_ms);
      meta["lb.request_ms"] = Ms(s.send_ms);
      meta["lb.soft_tokens_sent"] = std::to_string(s.soft_tokens);
      meta["lb.latent_bytes"] = std::to_string(s.latent_bytes);
      meta["lb.text_bytes"] = std::to_string(s.text_bytes);
    }
  } else {
    const absl::Time read_start = absl::Now();
    absl::StatusOr<ReadReport> r = Read(m);
    if (r.ok()) RecordRead(span, read_start, absl::Now(), *r);
    if (!r.ok()) {
      span.SetError(r.status().message());
      spdlog::warn("agent {}: cannot read {} from {}: {}", client_->agent_id(), m.message_id(),
                   m.sender_id(), r.status().ToString());
      reply.set_text(absl::StrCat("cannot read the message: ", r.status().ToString()));
      meta["lb.error"] = r.status().ToString();
    } else {
      spdlog::info("agent {}: read {} from {} as {} ({} soft tokens, prefill {} ms): {}",
                   client_->agent_id(), m.message_id(), m.sender_id(),
                   r->form == v1::PAYLOAD_FORM_LATENT ? "latent" : "text", r->soft_tokens,
                   Ms(r->prefill_ms), r->output);
      reply.set_text(r->output);
      meta["lb.receiver"] = client_->agent_id();
      meta["lb.receiver_model"] = spec_.model_id();
      meta["lb.received_form"] = r->form == v1::PAYLOAD_FORM_LATENT ? "latent" : "text";
      meta["lb.received_text"] = m.text();
      meta["lb.soft_tokens"] = std::to_string(r->soft_tokens);
      meta["lb.received_latent_bytes"] =
          m.has_latent() ? std::to_string(codec::WireBytes(m.latent())) : "0";
      meta["lb.transit_ms"] = Ms(received_ms - MsFromTimestamp(m.sent_at()));
      meta["lb.decode_ms"] = Ms(r->decode_ms);
      meta["lb.prefill_ms"] = Ms(r->prefill_ms);
      meta["lb.generate_ms"] = Ms(r->generate_ms);
      meta["lb.prompt_tokens"] = std::to_string(r->prompt_tokens);
    }
  }
  if (m.expects_reply()) {
    absl::StatusOr<v1::SendResult> sent = client_->Reply(m, std::move(reply));
    if (!sent.ok()) {
      spdlog::warn("agent {}: reply to {} failed: {}", client_->agent_id(), m.sender_id(),
                   sent.status().ToString());
    }
  }
}

absl::Status Agent::Serve() {
  return client_->Serve([this](const v1::Envelope& m) { Handle(m); });
}

}  // namespace latentbus::agent::node
