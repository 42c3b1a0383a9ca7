#include "agent/client/client.h"

#include <algorithm>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "agent/client/channel.h"
#include "agent/client/client_state.h"
#include "proto/error_reason.h"
#include "spdlog/spdlog.h"

namespace latentbus::agent {
namespace {

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t ns = absl::ToUnixNanos(t);
  ts.set_seconds(ns / 1000000000);
  ts.set_nanos(static_cast<int32_t>(ns % 1000000000));
  return ts;
}

}  // namespace

std::string NewMessageId() {
  thread_local std::mt19937_64 rng{std::random_device{}() ^
                                   static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()))};
  return absl::StrFormat("%016x%016x", rng(), rng());
}

Client::Client(std::unique_ptr<State> state) : state_(std::move(state)) {}

Client::~Client() { Close(); }

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(ClientOptions options) {
  if (options.agent_id.empty()) return absl::InvalidArgumentError("no agent id given");
  if (options.delivery_credits == 0) {
    return absl::InvalidArgumentError("delivery_credits must be at least 1");
  }
  if (options.write_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("write_timeout must be positive, got ",
                                                   absl::FormatDuration(options.write_timeout)));
  }
  auto state = std::make_unique<State>();
  for (absl::string_view a : absl::StrSplit(options.address, ',', absl::SkipWhitespace())) {
    state->addresses.emplace_back(absl::StripAsciiWhitespace(a));
  }
  if (state->addresses.empty()) state->addresses.push_back(options.address);  // the error
  state->options = std::move(options);
  for (size_t i = 0; i < state->addresses.size(); ++i) {  // every address is well formed
    if (absl::Status s = state->UseAddress(i); !s.ok()) return s;
  }
  // The first broker that answers.
  absl::StatusOr<std::pair<std::shared_ptr<BrokerConnection>, v1::Registered>> opened =
      absl::UnavailableError("no broker");
  for (size_t i = 0; i < state->addresses.size(); ++i) {
    if (absl::Status s = state->UseAddress(i); !s.ok()) return s;
    opened = state->Open(state->options.connect_timeout, state->options.topics,
                         /*fail_fast=*/true);
    // Only an unreachable broker sends us to the next; a refusal (token, id) is the answer.
    if (opened.ok() || opened.status().code() != absl::StatusCode::kUnavailable) break;
  }
  if (!opened.ok()) return opened.status();
  {
    absl::MutexLock lock(&state->mu);
    state->topics.insert(state->options.topics.begin(), state->options.topics.end());
  }
  state->Install(opened->first, opened->second, /*reconnect=*/false);
  State* raw = state.get();
  state->reader = std::thread([raw] { raw->ReadLoop(); });
  state->ack_writer = std::thread([raw] { raw->AckWriterLoop(); });
  return std::unique_ptr<Client>(new Client(std::move(state)));
}

const std::string& Client::agent_id() const { return state_->options.agent_id; }

v1::Registered Client::registered() const {
  absl::MutexLock lock(&state_->mu);
  return state_->registered;
}

int Client::reconnects() const {
  absl::MutexLock lock(&state_->mu);
  return state_->reconnects;
}

absl::Status Client::status() const {
  absl::MutexLock lock(&state_->mu);
  return state_->fatal;
}

bool Client::closed() const {
  absl::MutexLock lock(&state_->mu);
  return state_->closed;
}

namespace {

void Stamp(const std::string& agent_id, v1::Envelope* envelope) {
  if (envelope->message_id().empty()) envelope->set_message_id(NewMessageId());
  envelope->set_sender_id(agent_id);
  if (!envelope->has_sent_at()) *envelope->mutable_sent_at() = ToTimestamp(absl::Now());
}

// The client's span of a send when tracing is on and `e` starts a trace (it carries no
// traceparent): its context becomes the traceparent. Empty otherwise.
telemetry::Span StartClientSpan(telemetry::Tracer* tracer, const char* name, v1::Envelope* e) {
  if (tracer == nullptr || !e->traceparent().empty()) return telemetry::Span();
  telemetry::Span span =
      tracer->StartSpan(name, telemetry::SpanContext{}, telemetry::SpanKind::kProducer);
  e->set_traceparent(span.Traceparent());
  span.SetString("messaging.system", "latentbus");
  span.SetString("messaging.message.id", e->message_id());
  const v1::Address& to = e->recipient();
  span.SetString("messaging.destination.name", to.has_topic() ? to.topic() : to.agent_id());
  span.SetString("latentbus.sender", e->sender_id());
  return span;
}

// Marks `span` failed when `status` is.
void EndWith(telemetry::Span& span, const absl::Status& status) {
  if (!status.ok()) span.SetError(wire::Describe(status));
  span.End();
}

}  // namespace

absl::StatusOr<v1::SendResult> Client::Send(v1::Envelope envelope, absl::Duration timeout) {
  State& s = *state_;
  Stamp(s.options.agent_id, &envelope);
  telemetry::Span span = StartClientSpan(s.options.tracer, "latentbus.client.send", &envelope);
  const std::string id = envelope.message_id();
  const absl::Time deadline = absl::Now() + timeout;
  if (absl::Status sent = s.Submit(std::move(envelope), deadline, /*want_result=*/true);
      !sent.ok()) {
    EndWith(span, sent);
    return sent;
  }
  absl::MutexLock lock(&s.mu);
  auto done = [&s, &id]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return s.sends[id].done; };
  absl::Status ready = s.AwaitReady(done, deadline, "the broker's answer");
  absl::StatusOr<v1::SendResult> result =
      ready.ok() ? std::move(s.sends[id].result) : absl::StatusOr<v1::SendResult>(ready);
  s.sends.erase(id);
  EndWith(span, result.status());
  return result;
}

absl::StatusOr<v1::Envelope> Client::Request(v1::Envelope envelope, absl::Duration timeout) {
  State& s = *state_;
  Stamp(s.options.agent_id, &envelope);
  telemetry::Span span = StartClientSpan(s.options.tracer, "latentbus.client.request", &envelope);
  const std::string id = envelope.message_id();
  const absl::Time deadline = absl::Now() + timeout;
  envelope.set_expects_reply(true);
  *envelope.mutable_deadline() = ToTimestamp(deadline);
  bool lean;
  {
    absl::MutexLock lock(&s.mu);
    State::PendingRequest pending;
    if (envelope.recipient().target_case() == v1::Address::kAgentId) {
      pending.addressee = envelope.recipient().agent_id();
    }
    s.requests[id] = std::move(pending);
    lean = s.protocol >= 2;
  }
  if (lean) {
    // Revision 2: no SendResult; the reply, or an Error for the message, answers. The
    // pending send stays until then, to be written again after a reconnect.
    absl::Status sent = s.Submit(std::move(envelope), deadline, /*want_result=*/false);
    if (!sent.ok()) {
      EndWith(span, sent);
      absl::MutexLock lock(&s.mu);
      s.requests.erase(id);
      return sent;
    }
  } else if (absl::StatusOr<v1::SendResult> sent = Send(std::move(envelope), timeout); !sent.ok()) {
    EndWith(span, sent.status());
    absl::MutexLock lock(&s.mu);
    s.requests.erase(id);
    return sent.status();
  }
  absl::MutexLock lock(&s.mu);
  // The broker answers DEADLINE_EXCEEDED at the deadline; a little grace for that frame.
  auto refused = [&s, &id]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    auto it = s.sends.find(id);
    return it != s.sends.end() && it->second.done && !it->second.result.ok();
  };
  auto done = [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return s.requests[id].done || refused(); };
  absl::Status ready = s.AwaitReady(done, deadline + absl::Seconds(1), "the reply");
  absl::StatusOr<v1::Envelope> reply =
      !ready.ok()           ? absl::StatusOr<v1::Envelope>(ready)
      : s.requests[id].done ? std::move(s.requests[id].reply)
                            : absl::StatusOr<v1::Envelope>(s.sends[id].result.status());
  s.requests.erase(id);
  s.sends.erase(id);
  EndWith(span, reply.status());
  return reply;
}

absl::StatusOr<v1::SendResult> Client::Reply(const v1::Envelope& request, v1::Envelope reply,
                                             absl::Duration timeout) {
  reply.set_correlation_id(request.message_id());
  reply.mutable_recipient()->set_agent_id(request.sender_id());
  {
    absl::MutexLock lock(&state_->mu);
    if (state_->protocol >= 2) state_->NoteReplied(request.sender_id(), request.message_id());
  }
  absl::StatusOr<v1::SendResult> sent = Send(std::move(reply), timeout);
  if (!sent.ok()) {
    // Refused before it was written (too large, no credit, no stream) it acked nothing:
    // an Ack of the request must then be written, or its credit never comes back. (When
    // it did reach the broker the Ack is one too many, which the broker ignores.)
    absl::MutexLock lock(&state_->mu);
    state_->ForgetReplied(request.sender_id(), request.message_id());
  } else if (protocol() >= 2) {
    // The reply acked the request: a repeat already waiting (a redelivery after a lost
    // stream) is acked and never handed over, as by Ack.
    std::shared_ptr<BrokerConnection> c = state_->Current();
    if (c) {
      for (const v1::Envelope& repeat : state_->TakeQueuedRepeats(request)) {
        state_->WriteAck(c.get(), repeat);
      }
    }
  }
  return sent;
}

std::optional<v1::Envelope> Client::Receive(absl::Duration timeout) {
  State& s = *state_;
  absl::MutexLock lock(&s.mu);
  absl::Status ready =
      s.AwaitReady([&s]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return !s.inbox.empty(); },
                   absl::Now() + timeout, "a delivery");
  if (!ready.ok()) return std::nullopt;
  v1::Envelope e = std::move(s.inbox.front());
  s.inbox.pop_front();
  return e;
}

void Client::Ack(const v1::Envelope& delivered) {
  std::shared_ptr<BrokerConnection> c = state_->Current();
  if (!c) return;
  state_->AckFrames(c.get(), delivered);
  // A repeat that came while this one waited to be acked (a redelivery after a lost ack)
  // is acked too and never handed over.
  for (const v1::Envelope& repeat : state_->TakeQueuedRepeats(delivered)) {
    state_->WriteAck(c.get(), repeat);
  }
}

absl::Status Client::Serve(const std::function<void(const v1::Envelope&)>& handler) {
  while (true) {
    std::optional<v1::Envelope> m = Receive(absl::Milliseconds(200));
    if (!m) {
      absl::MutexLock lock(&state_->mu);
      if (state_->closed) return absl::OkStatus();
      if (!state_->fatal.ok()) return state_->fatal;
      continue;
    }
    handler(*m);
    Ack(*m);
  }
}

absl::Status Client::Subscribe(const std::string& topic, absl::Duration timeout) {
  return state_->ChangeSubscription(topic, true, timeout);
}

absl::Status Client::Unsubscribe(const std::string& topic, absl::Duration timeout) {
  return state_->ChangeSubscription(topic, false, timeout);
}

absl::StatusOr<v1::RouteQueryResponse> Client::RouteQuery(v1::RouteQueryRequest request,
                                                          absl::Duration timeout) {
  grpc::ClientContext context;
  AddToken(&context, state_->options.token);
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  if (request.sender_id().empty()) request.set_sender_id(state_->options.agent_id);
  v1::RouteQueryResponse response;
  grpc::Status st = state_->Stub()->RouteQuery(&context, request, &response);
  if (!st.ok()) return FromGrpcStatus(st);
  if (response.has_error() && response.error().reason() != v1::NEEDS_TEXT) {
    return wire::FromErrorProto(response.error());
  }
  return response;
}

absl::StatusOr<v1::ListAgentsResponse> Client::ListAgents(absl::Duration timeout) {
  grpc::ClientContext context;
  AddToken(&context, state_->options.token);
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  v1::ListAgentsResponse response;
  grpc::Status st = state_->Stub()->ListAgents(&context, v1::ListAgentsRequest(), &response);
  if (!st.ok()) return FromGrpcStatus(st);
  return response;
}

uint32_t Client::protocol() const {
  absl::MutexLock lock(&state_->mu);
  return state_->protocol;
}

void Client::Close() {
  State& s = *state_;
  // What was processed is not delivered again: the acks still waiting are written, and
  // the stream half-closed, within about a second. A writer that holds the stream (a
  // broker that stopped reading) is cancelled then too, so Close waits no longer.
  const absl::Time flush_by = absl::Now() + absl::Seconds(1);
  std::shared_ptr<BrokerConnection> current = s.Current();
  const uint64_t watch = current ? s.write_watchdog.Begin(&current->context, flush_by) : 0;
  s.FlushAcks(flush_by);
  std::shared_ptr<BrokerConnection> c;
  std::shared_ptr<BrokerConnection> opening;  // a reconnect's stream, not registered yet
  bool already = false;
  {
    absl::MutexLock lock(&s.mu);
    already = s.closed;
    s.closed = true;
    c = s.connection;
    opening = s.opening;
  }
  if (!already && c) {
    {
      absl::MutexLock lock(&c->write_mu);
      c->stream->WritesDone();
    }
    c->context.TryCancel();
  }
  if (current) s.write_watchdog.End(watch);
  if (already) return;
  if (opening) opening->context.TryCancel();
  if (s.reader.joinable() && s.reader.get_id() != std::this_thread::get_id()) s.reader.join();
  if (s.ack_writer.joinable() && s.ack_writer.get_id() != std::this_thread::get_id()) {
    s.ack_writer.join();
  }
}

}  // namespace latentbus::agent
