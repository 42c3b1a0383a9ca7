#include "agent/client/client.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "agent/client/backoff.h"
#include "agent/client/channel.h"
#include "proto/error_reason.h"
#include "spdlog/spdlog.h"

namespace latentbus::agent {
namespace {

using Stream = grpc::ClientReaderWriter<v1::AgentFrame, v1::BrokerFrame>;

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t ns = absl::ToUnixNanos(t);
  ts.set_seconds(ns / 1000000000);
  ts.set_nanos(static_cast<int32_t>(ns % 1000000000));
  return ts;
}

// A stream ended with one of these will not get better by reconnecting.
bool IsFatal(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:  // replaced by a newer stream for the same agent id
    case absl::StatusCode::kUnimplemented:
    case absl::StatusCode::kResourceExhausted:  // a frame over the broker's size limit:
                                                // sending it again fails again
      return true;
    default:
      return false;
  }
}

// One Connect stream and its context (the context must outlive the stream).
struct Connection {
  grpc::ClientContext context;
  std::unique_ptr<Stream> stream;
  absl::Mutex write_mu;  // one writer at a time
};

}  // namespace

std::string NewMessageId() {
  thread_local std::mt19937_64 rng{std::random_device{}() ^
                                   static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()))};
  return absl::StrFormat("%016x%016x", rng(), rng());
}

struct Client::State {
  struct PendingSend {
    v1::Envelope envelope;
    uint64_t order = 0;
    const Connection* written_on = nullptr;
    bool done = false;
    absl::StatusOr<v1::SendResult> result = absl::UnknownError("no answer yet");
  };
  struct PendingRequest {
    // The agent the request was addressed to, the only one whose reply is taken (empty
    // for a request to a topic: the broker admits only the subscribers it went to).
    std::string addressee;
    bool done = false;
    absl::StatusOr<v1::Envelope> reply = absl::UnknownError("no reply yet");
  };
  struct PendingSubscription {
    std::string topic;
    bool subscribe = true;
    bool done = false;
    absl::Status status;
  };

  ClientOptions options;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Broker::Stub> stub;
  std::atomic<uint64_t> next_seq{1};

  mutable absl::Mutex mu;
  std::shared_ptr<Connection> connection ABSL_GUARDED_BY(mu);
  bool connected ABSL_GUARDED_BY(mu) = false;
  bool closed ABSL_GUARDED_BY(mu) = false;
  absl::Status fatal ABSL_GUARDED_BY(mu);
  uint32_t send_credits ABSL_GUARDED_BY(mu) = 0;
  uint32_t credits_to_return ABSL_GUARDED_BY(mu) = 0;
  v1::Registered registered ABSL_GUARDED_BY(mu);
  int reconnects ABSL_GUARDED_BY(mu) = 0;
  std::set<std::string> topics ABSL_GUARDED_BY(mu);
  uint64_t next_order ABSL_GUARDED_BY(mu) = 0;
  absl::flat_hash_map<std::string, PendingSend> sends ABSL_GUARDED_BY(mu);
  absl::flat_hash_map<std::string, PendingRequest> requests ABSL_GUARDED_BY(mu);
  absl::flat_hash_map<uint64_t, PendingSubscription> subscriptions ABSL_GUARDED_BY(mu);
  std::deque<v1::Envelope> inbox ABSL_GUARDED_BY(mu);

  std::thread reader;

  // Writes `frame` with `seq` (a fresh one when 0) on `c`; false when the stream is
  // broken (the reader notices and reconnects).
  bool Write(Connection* c, v1::AgentFrame frame, uint64_t seq = 0) {
    frame.set_seq(seq != 0 ? seq : next_seq.fetch_add(1));
    absl::MutexLock lock(&c->write_mu);
    return c->stream->Write(frame);
  }

  std::shared_ptr<Connection> Current() {
    absl::MutexLock lock(&mu);
    return connection;
  }

  // Waits until the channel is connected. `fail_fast`: the first failed connection
  // attempt (refused, unreachable, TLS handshake) is the answer at once; else retries
  // until `timeout`.
  absl::Status AwaitConnected(absl::Duration timeout, bool fail_fast) {
    const absl::Time deadline = absl::Now() + timeout;
    grpc_connectivity_state state = channel->GetState(/*try_to_connect=*/true);
    while (state != GRPC_CHANNEL_READY) {
      if (fail_fast && state == GRPC_CHANNEL_TRANSIENT_FAILURE) {
        return absl::UnavailableError(absl::StrCat(
            "cannot connect to the broker at ", options.address,
            ": refused or unreachable (is `latentbus broker` running there? it listens on ",
            kDefaultBrokerAddress, " unless --listen says otherwise)"));
      }
      const absl::Time now = absl::Now();
      if (now >= deadline) {
        return absl::UnavailableError(absl::StrCat("cannot reach the broker at ", options.address,
                                                   " within ", absl::FormatDuration(timeout)));
      }
      channel->WaitForStateChange(state,
                                  absl::ToChronoTime(std::min(deadline, now + absl::Seconds(1))));
      state = channel->GetState(/*try_to_connect=*/true);
    }
    return absl::OkStatus();
  }

  // Opens a stream and registers; returns the connection and the Registered answer.
  absl::StatusOr<std::pair<std::shared_ptr<Connection>, v1::Registered>> Open(
      absl::Duration timeout, const std::vector<std::string>& topic_list, bool fail_fast) {
    if (absl::Status s = AwaitConnected(timeout, fail_fast); !s.ok()) return s;
    auto c = std::make_shared<Connection>();
    AddToken(&c->context, options.token);
    c->stream = stub->Connect(&c->context);
    v1::AgentFrame frame;
    v1::Register* reg = frame.mutable_register_();
    reg->set_agent_id(options.agent_id);
    if (options.model.has_value()) *reg->mutable_model() = *options.model;
    reg->set_initial_credits(options.delivery_credits);
    for (const std::string& t : topic_list) reg->add_topics(t);
    Write(c.get(), std::move(frame));
    v1::BrokerFrame answer;
    absl::Status refused;
    while (c->stream->Read(&answer)) {
      if (answer.has_registered()) return std::make_pair(c, answer.registered());
      if (answer.has_error()) refused = wire::FromErrorProto(answer.error());
    }
    absl::Status ended = FromGrpcStatus(c->stream->Finish());
    if (!refused.ok()) return absl::Status(refused.code(), refused.message());
    if (!ended.ok()) return ended;
    return absl::UnavailableError("the broker ended the stream before Registered");
  }

  // Installs a fresh connection and resends what was never answered.
  void Install(std::shared_ptr<Connection> c, const v1::Registered& reg, bool reconnect) {
    std::vector<std::pair<uint64_t, v1::Envelope>> resend;
    {
      absl::MutexLock lock(&mu);
      connection = c;
      connected = true;
      registered = reg;
      send_credits = reg.send_credits();
      credits_to_return = 0;
      if (reconnect) ++reconnects;
      for (auto& [id, p] : sends) {
        if (p.done || p.written_on == c.get()) continue;
        p.written_on = c.get();
        if (send_credits > 0) --send_credits;
        resend.emplace_back(p.order, p.envelope);
      }
    }
    std::sort(resend.begin(), resend.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [order, envelope] : resend) {
      v1::AgentFrame frame;
      *frame.mutable_send()->mutable_envelope() = std::move(envelope);
      Write(c.get(), std::move(frame));
    }
    if (reconnect) {
      spdlog::info("client {}: reconnected; resent {} unanswered message(s)", options.agent_id,
                   resend.size());
    }
  }

  void AckFrames(Connection* c, const v1::Envelope& delivered) {
    v1::AgentFrame ack;
    ack.mutable_ack()->set_message_id(delivered.message_id());
    ack.mutable_ack()->set_sender_id(delivered.sender_id());
    Write(c, std::move(ack));
    uint32_t give = 0;
    {
      absl::MutexLock lock(&mu);
      ++credits_to_return;
      if (credits_to_return >= std::max<uint32_t>(1, options.delivery_credits / 2)) {
        give = credits_to_return;
        credits_to_return = 0;
      }
    }
    if (give > 0) {
      v1::AgentFrame credit;
      credit.mutable_credit()->set_credits(give);
      Write(c, std::move(credit));
    }
  }

  void Handle(Connection* c, const v1::BrokerFrame& frame) {
    switch (frame.frame_case()) {
      case v1::BrokerFrame::kDeliver: {
        const v1::Envelope& e = frame.deliver().envelope();
        bool reply = false;
        {
          absl::MutexLock lock(&mu);
          if (!e.correlation_id().empty()) {
            auto it = requests.find(e.correlation_id());
            if (it != requests.end() && !it->second.done &&
                (it->second.addressee.empty() || it->second.addressee == e.sender_id())) {
              it->second.done = true;
              it->second.reply = e;
              reply = true;
            }
          }
          if (!reply) inbox.push_back(e);
        }
        if (reply) AckFrames(c, e);
        return;
      }
      case v1::BrokerFrame::kSendResult: {
        absl::MutexLock lock(&mu);
        auto it = sends.find(frame.send_result().message_id());
        if (it != sends.end() && !it->second.done) {
          it->second.done = true;
          it->second.result = frame.send_result();
        }
        return;
      }
      case v1::BrokerFrame::kSubscribeResult: {
        absl::MutexLock lock(&mu);
        auto it = subscriptions.find(frame.seq());
        if (it != subscriptions.end()) it->second.done = true;
        return;
      }
      case v1::BrokerFrame::kCredit: {
        absl::MutexLock lock(&mu);
        send_credits += frame.credit().credits();
        return;
      }
      case v1::BrokerFrame::kError: {
        const v1::Error& error = frame.error();
        {
          absl::MutexLock lock(&mu);
          if (!error.message_id().empty()) {
            auto s = sends.find(error.message_id());
            if (s != sends.end() && !s->second.done) {
              s->second.done = true;
              s->second.result = wire::FromErrorProto(error);
              return;
            }
            auto r = requests.find(error.message_id());
            if (r != requests.end() && !r->second.done) {
              r->second.done = true;
              r->second.reply = wire::FromErrorProto(error);
              return;
            }
          }
          auto sub = subscriptions.find(error.seq());
          if (error.seq() != 0 && sub != subscriptions.end() && !sub->second.done) {
            sub->second.done = true;
            sub->second.status = wire::FromErrorProto(error);
            return;
          }
        }
        if (options.on_error) {
          options.on_error(error);
        } else {
          spdlog::warn("client {}: broker error {} for message '{}': {}", options.agent_id,
                       wire::ReasonName(error.reason()), error.message_id(), error.detail());
        }
        return;
      }
      case v1::BrokerFrame::kGoAway:
        spdlog::info("client {}: broker is going away: {}", options.agent_id,
                     frame.go_away().detail());
        return;
      default:
        return;  // Registered again or a frame kind this client does not know
    }
  }

  void Fail(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    fatal = status;
    connected = false;
    for (auto& [id, p] : sends) {
      if (!p.done) {
        p.done = true;
        p.result = status;
      }
    }
    for (auto& [id, r] : requests) {
      if (!r.done) {
        r.done = true;
        r.reply = status;
      }
    }
    for (auto& [seq, s] : subscriptions) {
      if (!s.done) {
        s.done = true;
        s.status = status;
      }
    }
  }

  void ReadLoop() {
    std::shared_ptr<Connection> c = Current();
    while (true) {
      v1::BrokerFrame frame;
      while (c->stream->Read(&frame)) Handle(c.get(), frame);
      absl::Status ended = FromGrpcStatus(c->stream->Finish());
      std::vector<std::string> topic_list;
      {
        absl::MutexLock lock(&mu);
        connected = false;
        if (closed) return;
        if (IsFatal(ended.code()) || !options.reconnect) {
          spdlog::error("client {}: stream ended: {}", options.agent_id, ended.ToString());
          Fail(ended.ok() ? absl::UnavailableError("the broker ended the stream") : ended);
          return;
        }
      }
      spdlog::warn("client {}: stream lost ({}); reconnecting", options.agent_id, ended.ToString());
      Backoff retry(options.backoff_initial, options.backoff_max);
      absl::Duration backoff = retry.Next();
      while (true) {
        {
          absl::MutexLock lock(&mu);
          auto is_closed = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu) { return closed; };
          if (mu.AwaitWithTimeout(absl::Condition(&is_closed), backoff)) return;
          topic_list.assign(topics.begin(), topics.end());
        }
        absl::StatusOr<std::pair<std::shared_ptr<Connection>, v1::Registered>> opened =
            Open(std::max(backoff, absl::Milliseconds(200)), topic_list, /*fail_fast=*/false);
        if (opened.ok()) {
          c = opened->first;
          Install(c, opened->second, /*reconnect=*/true);
          {
            absl::MutexLock lock(&mu);
            if (closed) c->context.TryCancel();
          }
          break;
        }
        if (IsFatal(opened.status().code())) {
          absl::MutexLock lock(&mu);
          spdlog::error("client {}: cannot register again: {}", options.agent_id,
                        opened.status().ToString());
          Fail(opened.status());
          return;
        }
        backoff = retry.Next();
      }
    }
  }

  absl::Status ChangeSubscription(const std::string& topic, bool subscribe,
                                  absl::Duration timeout) {
    State& s = *this;
    const uint64_t seq = s.next_seq.fetch_add(1);
    const absl::Time deadline = absl::Now() + timeout;
    std::shared_ptr<Connection> c;
    {
      absl::MutexLock lock(&s.mu);
      absl::Status ready =
          s.AwaitReady([&s]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return s.connected; }, deadline,
                       "the connection");
      if (!ready.ok()) return ready;
      c = s.connection;
      PendingSubscription& p = s.subscriptions[seq];
      p.topic = topic;
      p.subscribe = subscribe;
    }
    v1::AgentFrame frame;
    if (subscribe) {
      frame.mutable_subscribe()->set_topic(topic);
    } else {
      frame.mutable_unsubscribe()->set_topic(topic);
    }
    s.Write(c.get(), std::move(frame), seq);
    absl::MutexLock lock(&s.mu);
    auto done = [&s, seq]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return s.subscriptions[seq].done; };
    absl::Status result = s.AwaitReady(done, deadline, "the broker's subscription answer");
    if (result.ok()) result = s.subscriptions[seq].status;
    s.subscriptions.erase(seq);
    if (result.ok()) {
      if (subscribe) {
        s.topics.insert(topic);
      } else {
        s.topics.erase(topic);
      }
    }
    return result;
  }

  // Waits (mu held) until `ready` or closed/fatal or `deadline`; the status to return
  // when not ready.
  absl::Status AwaitReady(const std::function<bool()>& ready, absl::Time deadline,
                          absl::string_view what) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    auto cond = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu) { return closed || !fatal.ok() || ready(); };
    mu.AwaitWithDeadline(absl::Condition(&cond), deadline);
    if (ready()) return absl::OkStatus();
    if (closed) return absl::CancelledError("the client was closed");
    if (!fatal.ok()) return fatal;
    return absl::DeadlineExceededError(absl::StrCat("timed out waiting for ", what));
  }
};

Client::Client(std::unique_ptr<State> state) : state_(std::move(state)) {}

Client::~Client() { Close(); }

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(ClientOptions options) {
  if (options.agent_id.empty()) return absl::InvalidArgumentError("no agent id given");
  if (options.delivery_credits == 0) {
    return absl::InvalidArgumentError("delivery_credits must be at least 1");
  }
  auto state = std::make_unique<State>();
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = MakeChannel(
      {options.address, options.tls_ca_file, options.tls_cert_file, options.tls_key_file});
  if (!channel.ok()) return channel.status();
  state->channel = *std::move(channel);
  state->stub = v1::Broker::NewStub(state->channel);
  state->options = std::move(options);
  absl::StatusOr<std::pair<std::shared_ptr<Connection>, v1::Registered>> opened =
      state->Open(state->options.connect_timeout, state->options.topics, /*fail_fast=*/true);
  if (!opened.ok()) return opened.status();
  {
    absl::MutexLock lock(&state->mu);
    state->topics.insert(state->options.topics.begin(), state->options.topics.end());
  }
  state->Install(opened->first, opened->second, /*reconnect=*/false);
  State* raw = state.get();
  state->reader = std::thread([raw] { raw->ReadLoop(); });
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

absl::StatusOr<v1::SendResult> Client::Send(v1::Envelope envelope, absl::Duration timeout) {
  State& s = *state_;
  if (envelope.message_id().empty()) envelope.set_message_id(NewMessageId());
  envelope.set_sender_id(s.options.agent_id);
  if (!envelope.has_sent_at()) *envelope.mutable_sent_at() = ToTimestamp(absl::Now());
  const std::string id = envelope.message_id();
  const absl::Time deadline = absl::Now() + timeout;
  std::shared_ptr<Connection> c;
  {
    absl::MutexLock lock(&s.mu);
    // The broker's limit, learnt at Register: an envelope over it is refused here, and
    // never written (a frame far over it would end the stream).
    const uint64_t limit = s.registered.max_message_bytes();
    if (const size_t bytes = envelope.ByteSizeLong(); limit != 0 && bytes > limit) {
      v1::Error error;
      error.set_reason(v1::MESSAGE_TOO_LARGE);
      error.set_message_id(id);
      error.set_detail(absl::StrCat("envelope is ", bytes, " bytes; the broker at ",
                                    s.options.address, " accepts at most ", limit));
      return wire::FromErrorProto(error);
    }
    if (s.sends.contains(id)) {
      return absl::AlreadyExistsError(absl::StrCat("message '", id, "' is already in flight"));
    }
    absl::Status ready = s.AwaitReady(
        [&s]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return s.connected && s.send_credits > 0; },
        deadline, "a send credit from the broker");
    if (!ready.ok()) return ready;
    --s.send_credits;
    c = s.connection;
    State::PendingSend& p = s.sends[id];
    p.envelope = envelope;
    p.order = s.next_order++;
    p.written_on = c.get();
  }
  v1::AgentFrame frame;
  *frame.mutable_send()->mutable_envelope() = std::move(envelope);
  s.Write(c.get(), std::move(frame));  // a broken stream is resent after reconnect
  absl::MutexLock lock(&s.mu);
  auto done = [&s, &id]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return s.sends[id].done; };
  absl::Status ready = s.AwaitReady(done, deadline, "the broker's answer");
  absl::StatusOr<v1::SendResult> result =
      ready.ok() ? std::move(s.sends[id].result) : absl::StatusOr<v1::SendResult>(ready);
  s.sends.erase(id);
  return result;
}

absl::StatusOr<v1::Envelope> Client::Request(v1::Envelope envelope, absl::Duration timeout) {
  State& s = *state_;
  if (envelope.message_id().empty()) envelope.set_message_id(NewMessageId());
  const std::string id = envelope.message_id();
  const absl::Time deadline = absl::Now() + timeout;
  envelope.set_expects_reply(true);
  *envelope.mutable_deadline() = ToTimestamp(deadline);
  {
    absl::MutexLock lock(&s.mu);
    State::PendingRequest pending;
    if (envelope.recipient().target_case() == v1::Address::kAgentId) {
      pending.addressee = envelope.recipient().agent_id();
    }
    s.requests[id] = std::move(pending);
  }
  absl::StatusOr<v1::SendResult> sent = Send(std::move(envelope), timeout);
  absl::MutexLock lock(&s.mu);
  if (!sent.ok()) {
    s.requests.erase(id);
    return sent.status();
  }
  // The broker answers DEADLINE_EXCEEDED at the deadline; a little grace for that frame.
  auto done = [&s, &id]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return s.requests[id].done; };
  absl::Status ready = s.AwaitReady(done, deadline + absl::Seconds(1), "the reply");
  absl::StatusOr<v1::Envelope> reply =
      ready.ok() ? std::move(s.requests[id].reply) : absl::StatusOr<v1::Envelope>(ready);
  s.requests.erase(id);
  return reply;
}

absl::StatusOr<v1::SendResult> Client::Reply(const v1::Envelope& request, v1::Envelope reply,
                                             absl::Duration timeout) {
  reply.set_correlation_id(request.message_id());
  reply.mutable_recipient()->set_agent_id(request.sender_id());
  return Send(std::move(reply), timeout);
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
  std::shared_ptr<Connection> c = state_->Current();
  if (c) state_->AckFrames(c.get(), delivered);
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
  grpc::Status st = state_->stub->RouteQuery(&context, request, &response);
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
  grpc::Status st = state_->stub->ListAgents(&context, v1::ListAgentsRequest(), &response);
  if (!st.ok()) return FromGrpcStatus(st);
  return response;
}

void Client::Close() {
  State& s = *state_;
  std::shared_ptr<Connection> c;
  {
    absl::MutexLock lock(&s.mu);
    if (s.closed) return;
    s.closed = true;
    c = s.connection;
  }
  if (c) {
    {
      absl::MutexLock lock(&c->write_mu);
      c->stream->WritesDone();
    }
    c->context.TryCancel();
  }
  if (s.reader.joinable() && s.reader.get_id() != std::this_thread::get_id()) s.reader.join();
}

}  // namespace latentbus::agent
