#include "agent/client/client_state.h"

#include <algorithm>
#include <atomic>
#include <iterator>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "agent/client/backoff.h"
#include "agent/client/channel.h"
#include "proto/error_reason.h"
#include "spdlog/spdlog.h"

namespace latentbus::agent {
namespace {

// A stream ended with one of these will not get better by reconnecting.
bool IsFinal(absl::StatusCode code) {
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

}  // namespace

namespace {
// A write is given at least this long once it holds the stream: a frame flow control is
// letting through is not cancelled, with its stream, for a deadline all but spent (a
// send that waited for a credit).
constexpr absl::Duration kMinWriteWait = absl::Seconds(1);
}  // namespace

bool Client::State::Write(BrokerConnection* c, v1::AgentFrame frame, uint64_t seq,
                          absl::Time deadline) {
  frame.set_seq(seq != 0 ? seq : next_seq.fetch_add(1));
  absl::MutexLock lock(&c->write_mu);
  // Counted from when the lock is held: waiting behind another write is not this one's.
  // A floor: a frame that flow control would let go at once is not cancelled for a
  // deadline that is all but spent.
  const absl::Time now = absl::Now();
  deadline = deadline == absl::InfiniteFuture()
                 ? now + std::max(options.write_timeout, kMinWriteWait)
                 : std::max(deadline, now + kMinWriteWait);
  const uint64_t watch = write_watchdog.Begin(&c->context, deadline);
  const bool written = c->stream->Write(frame);
  if (write_watchdog.End(watch)) {
    spdlog::warn(
        "client {}: the broker took no data until the write's deadline (it stopped "
        "reading); the stream is reset and reconnects",
        options.agent_id);
    return false;
  }
  return written;
}

absl::Status Client::State::UseAddress(size_t index) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> made = MakeChannel(
      {addresses[index], options.tls_ca_file, options.tls_cert_file, options.tls_key_file});
  if (!made.ok()) return made.status();
  absl::MutexLock lock(&endpoint_mu);
  address_index = index;
  channel = *std::move(made);
  stub = v1::Broker::NewStub(channel);
  return absl::OkStatus();
}

bool Client::State::UseNextAddress() {
  if (addresses.size() < 2) return false;
  size_t next;
  {
    absl::MutexLock lock(&endpoint_mu);
    next = (address_index + 1) % addresses.size();
  }
  if (!UseAddress(next).ok()) return false;
  spdlog::warn("client {}: trying broker {}", options.agent_id, addresses[next]);
  return true;
}

std::shared_ptr<grpc::Channel> Client::State::Channel() const {
  absl::MutexLock lock(&endpoint_mu);
  return channel;
}

std::shared_ptr<v1::Broker::Stub> Client::State::Stub() const {
  absl::MutexLock lock(&endpoint_mu);
  return stub;
}

std::shared_ptr<BrokerConnection> Client::State::Current() {
  absl::MutexLock lock(&mu);
  return connection;
}

absl::Status Client::State::AwaitConnected(absl::Duration timeout, bool fail_fast) {
  const absl::Time deadline = absl::Now() + timeout;
  const std::shared_ptr<grpc::Channel> current = Channel();
  grpc_connectivity_state state = current->GetState(/*try_to_connect=*/true);
  while (state != GRPC_CHANNEL_READY) {
    {
      absl::MutexLock lock(&mu);
      if (closed) return absl::CancelledError("the client was closed");
    }
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
    // Short slices: Close() does not wait for a broker that cannot be reached.
    current->WaitForStateChange(
        state, absl::ToChronoTime(std::min(deadline, now + absl::Milliseconds(100))));
    state = current->GetState(/*try_to_connect=*/true);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::pair<std::shared_ptr<BrokerConnection>, v1::Registered>> Client::State::Open(
    absl::Duration timeout, const std::vector<std::string>& topic_list, bool fail_fast) {
  if (absl::Status s = AwaitConnected(timeout, fail_fast); !s.ok()) return s;
  auto c = std::make_shared<BrokerConnection>();
  AddToken(&c->context, options.token);
  {
    // From here Close() cancels this stream too: it does not wait for a Registered that a
    // broker may never send (the wait below).
    absl::MutexLock lock(&mu);
    if (closed) return absl::CancelledError("the client was closed");
    opening = c;
  }
  c->stream = Stub()->Connect(&c->context);
  v1::AgentFrame frame;
  v1::Register* reg = frame.mutable_register_();
  reg->set_agent_id(options.agent_id);
  if (options.model.has_value()) *reg->mutable_model() = *options.model;
  reg->set_initial_credits(options.delivery_credits);
  reg->set_protocol(options.protocol);
  for (const std::string& t : topic_list) reg->add_topics(t);
  Write(c.get(), std::move(frame));
  // A broker that takes the stream and never answers would hold this read until keepalive
  // ends the stream: past the wait, the stream is cancelled and the broker counts as
  // unavailable (Connect then tries the next address).
  const absl::Duration wait = std::max(timeout, kMinRegisterWait);
  absl::Notification answered;
  std::atomic<bool> cancelled{false};
  std::thread watchdog([&] {
    if (answered.WaitForNotificationWithTimeout(wait)) return;
    cancelled = true;
    c->context.TryCancel();
  });
  v1::BrokerFrame answer;
  absl::Status refused;
  bool got_registered = false;
  while (c->stream->Read(&answer)) {
    if (answer.has_registered()) {
      got_registered = true;
      break;
    }
    if (answer.has_error()) refused = wire::FromErrorProto(answer.error());
  }
  answered.Notify();
  watchdog.join();
  {
    absl::MutexLock lock(&mu);
    opening.reset();
  }
  if (got_registered && !cancelled) return std::make_pair(c, answer.registered());
  absl::Status ended = FromGrpcStatus(c->stream->Finish());
  if (!refused.ok()) return absl::Status(refused.code(), refused.message());
  if (cancelled) {
    std::string where;
    {
      absl::MutexLock lock(&endpoint_mu);
      where = addresses[address_index];
    }
    return absl::UnavailableError(absl::StrCat("the broker at ", where,
                                               " took the stream but did not answer Register "
                                               "within ",
                                               absl::FormatDuration(wait)));
  }
  if (!ended.ok()) return ended;
  return absl::UnavailableError("the broker ended the stream before Registered");
}

void Client::State::Install(std::shared_ptr<BrokerConnection> c, const v1::Registered& reg,
                            bool reconnect) {
  std::vector<std::pair<uint64_t, v1::AgentFrame>> resend;
  {
    absl::MutexLock lock(&mu);
    connection = c;
    connected = true;
    registered = reg;
    protocol = std::max<uint32_t>(1, reg.protocol());
    send_credits = reg.send_credits();
    credits_to_return = 0;
    if (reconnect) ++reconnects;
    for (auto& [id, p] : sends) {
      if (p.done || p.written_on == c.get()) continue;
      p.written_on = c.get();
      if (send_credits > 0) --send_credits;
      v1::AgentFrame frame;
      *frame.mutable_send()->mutable_envelope() = p.envelope;
      frame.mutable_send()->set_want_result(p.want_result);
      resend.emplace_back(p.order, std::move(frame));
    }
  }
  std::sort(resend.begin(), resend.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [order, frame] : resend) Write(c.get(), std::move(frame));
  if (reconnect) {
    spdlog::info("client {}: reconnected; resent {} unanswered message(s)", options.agent_id,
                 resend.size());
  }
}

absl::Status Client::State::Submit(v1::Envelope envelope, absl::Time deadline, bool want_result) {
  State& s = *this;
  const std::string id = envelope.message_id();
  std::shared_ptr<BrokerConnection> c;
  v1::AgentFrame frame;
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
    PendingSend& p = s.sends[id];
    p.envelope = envelope;
    p.order = s.next_order++;
    p.written_on = c.get();
    p.want_result = want_result;
    if (s.protocol >= 2) {
      frame.mutable_send()->set_want_result(want_result);
      s.TakePendingAcks(&frame);
    }
  }
  *frame.mutable_send()->mutable_envelope() = std::move(envelope);
  // A broken stream is resent after reconnect; one stuck past the deadline is reset.
  s.Write(c.get(), std::move(frame), 0, deadline);
  return absl::OkStatus();
}

void Client::State::NoteAcked(std::string key) {
  if (options.dedup_window == 0) return;
  if (!acked.insert(key).second) return;
  acked_order.push_back(std::move(key));
  while (acked_order.size() > options.dedup_window) {
    acked.erase(acked_order.front());
    acked_order.pop_front();
  }
}

std::vector<v1::Envelope> Client::State::TakeQueuedRepeats(const v1::Envelope& first) {
  std::vector<v1::Envelope> out;
  if (options.dedup_window == 0) return out;
  absl::MutexLock lock(&mu);
  for (auto it = inbox.begin(); it != inbox.end();) {
    if (it->message_id() == first.message_id() && it->sender_id() == first.sender_id()) {
      out.push_back(std::move(*it));
      it = inbox.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

namespace {
// Removes the last `key` from `order`: a key taken out of its set leaves its place in the
// order too, or a stale place would forget the key early if it came back.
void EraseLast(std::deque<std::string>& order, const std::string& key) {
  auto at = std::find(order.rbegin(), order.rend(), key);
  if (at != order.rend()) order.erase(std::next(at).base());
}
}  // namespace

void Client::State::AckFrames(BrokerConnection* c, const v1::Envelope& delivered) {
  {
    absl::MutexLock lock(&mu);
    std::string key =
        absl::StrCat(delivered.sender_id(), absl::string_view("\0", 1), delivered.message_id());
    acked_by_reply.erase(key);  // the application's ack owns the dedup entry now
    NoteAcked(key);
    if (protocol >= 2 && !replied.empty() && replied.erase(key) > 0) {
      EraseLast(replied_order, key);  // from the back: the reply is usually a recent one
      return;                         // our Reply acked it
    }
  }
  WriteAck(c, delivered);
}

void Client::State::WriteAck(BrokerConnection* c, const v1::Envelope& delivered) {
  {
    absl::MutexLock lock(&mu);
    if (protocol >= 2) {
      if (pending_acks.empty()) acks_waiting_since = absl::Now();
      v1::Ack& ack = pending_acks.emplace_back();
      ack.set_message_id(delivered.message_id());
      ack.set_sender_id(delivered.sender_id());
      return;  // the ack writer, or the next frame, takes it
    }
  }
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

void Client::State::TakePendingAcks(v1::AgentFrame* frame) {
  if (pending_acks.empty()) return;
  for (v1::Ack& ack : pending_acks) *frame->add_acks() = std::move(ack);
  pending_acks.clear();
}

void Client::State::NoteReplied(const std::string& sender_id, const std::string& message_id) {
  constexpr size_t kRememberReplies = 4096;
  std::string key = absl::StrCat(sender_id, absl::string_view("\0", 1), message_id);
  // The reply acks the request: a repeat of it is not handed over either (as after Ack).
  if (options.dedup_window > 0 && !acked.contains(key)) {
    NoteAcked(key);
    acked_by_reply.insert(key);
  }
  if (!replied.insert(key).second) return;
  replied_order.push_back(std::move(key));
  while (replied_order.size() > kRememberReplies) {
    replied.erase(replied_order.front());
    acked_by_reply.erase(replied_order.front());
    replied_order.pop_front();
  }
}

void Client::State::ForgetReplied(const std::string& sender_id, const std::string& message_id) {
  const std::string key = absl::StrCat(sender_id, absl::string_view("\0", 1), message_id);
  if (replied.erase(key) > 0) EraseLast(replied_order, key);
  if (acked_by_reply.erase(key) > 0) {  // nothing acked it: its repeats are handed over
    acked.erase(key);
    EraseLast(acked_order, key);
  }
}

bool Client::State::FlushAcks(absl::Time deadline) {
  v1::AgentFrame frame;
  std::shared_ptr<BrokerConnection> c;
  {
    absl::MutexLock lock(&mu);
    if (pending_acks.empty() || !connected) return false;
    c = connection;
    // The first ack is the frame; the rest ride along.
    *frame.mutable_ack() = std::move(pending_acks.front());
    pending_acks.erase(pending_acks.begin());
    TakePendingAcks(&frame);
  }
  Write(c.get(), std::move(frame), 0, deadline);
  return true;
}

void Client::State::AckWriterLoop() {
  const auto flush_at = std::max<size_t>(1, options.delivery_credits / 2);
  while (true) {
    {
      absl::MutexLock lock(&mu);
      auto waiting = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu) {
        return closed || (connected && !pending_acks.empty());
      };
      mu.Await(absl::Condition(&waiting));
      if (closed) return;
      // Give them ack_delay to ride on a Send, unless enough wait that credits run short.
      auto due = [this, flush_at]() ABSL_SHARED_LOCKS_REQUIRED(mu) {
        return closed || pending_acks.size() >= flush_at;
      };
      mu.AwaitWithDeadline(absl::Condition(&due), acks_waiting_since + options.ack_delay);
      if (closed) return;
    }
    FlushAcks();
  }
}

void Client::State::Handle(BrokerConnection* c, const v1::BrokerFrame& frame) {
  if (frame.send_credits() > 0) {  // revision 2: credits riding on any frame
    absl::MutexLock lock(&mu);
    send_credits += frame.send_credits();
  }
  switch (frame.frame_case()) {
    case v1::BrokerFrame::kDeliver: {
      const v1::Envelope& e = frame.deliver().envelope();
      bool reply = false, repeat = false;
      {
        absl::MutexLock lock(&mu);
        repeat =
            options.dedup_window > 0 &&
            acked.contains(absl::StrCat(e.sender_id(), absl::string_view("\0", 1), e.message_id()));
      }
      if (repeat) {  // the application acked it already: ack the repeat, hand nothing over
        WriteAck(c, e);
        return;
      }
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
        // A topic request lives on when an error names some of its subscribers only
        // (their queue was full, ...): the others may have it and answer; the error goes
        // to on_error. Revision 1 settles its send first (SendResult, or this error when
        // no subscriber took it); on revision 2 the send stays pending until the request
        // ends, so a request none of whose subscribers took it ends at its deadline.
        auto r = requests.find(error.message_id());
        const bool some_subscribers = r != requests.end() && r->second.addressee.empty() &&
                                      error.agent_ids_size() > 0 &&
                                      wire::IsPerRecipientReason(error.reason());
        if (!error.message_id().empty()) {
          auto s = sends.find(error.message_id());
          if (s != sends.end() && !s->second.done && !(some_subscribers && protocol >= 2)) {
            s->second.done = true;
            s->second.result = wire::FromErrorProto(error);
            return;
          }
          if (r != requests.end() && !r->second.done && !some_subscribers) {
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
      broker_going_away = true;
      return;
    default:
      return;  // Registered again or a frame kind this client does not know
  }
}

void Client::State::Fail(const absl::Status& status) {
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

void Client::State::ReadLoop() {
  std::shared_ptr<BrokerConnection> c = Current();
  while (true) {
    v1::BrokerFrame frame;
    while (c->stream->Read(&frame)) Handle(c.get(), frame);
    absl::Status ended = FromGrpcStatus(c->stream->Finish());
    std::vector<std::string> topic_list;
    {
      absl::MutexLock lock(&mu);
      connected = false;
      if (closed) return;
      if (IsFinal(ended.code()) || !options.reconnect) {
        spdlog::error("client {}: stream ended: {}", options.agent_id, ended.ToString());
        Fail(ended.ok() ? absl::UnavailableError("the broker ended the stream") : ended);
        return;
      }
    }
    spdlog::warn("client {}: stream lost ({}); reconnecting", options.agent_id, ended.ToString());
    if (broker_going_away.exchange(false) && UseNextAddress()) {
      spdlog::info("client {}: its broker left; trying the next one first", options.agent_id);
    }
    Backoff retry(options.backoff_initial, options.backoff_max);
    absl::Duration backoff = retry.Next();
    while (true) {
      {
        absl::MutexLock lock(&mu);
        auto is_closed = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu) { return closed; };
        if (mu.AwaitWithTimeout(absl::Condition(&is_closed), backoff)) return;
        topic_list.assign(topics.begin(), topics.end());
      }
      absl::StatusOr<std::pair<std::shared_ptr<BrokerConnection>, v1::Registered>> opened =
          Open(std::max(backoff, absl::Milliseconds(200)), topic_list, /*fail_fast=*/false);
      bool closing;
      {
        absl::MutexLock lock(&mu);
        closing = closed;
      }
      if (closing) {
        // Close() ran while this stream registered (or cancelled it): end it unused.
        if (opened.ok()) {
          BrokerConnection& unused = *opened->first;
          unused.context.TryCancel();
          v1::BrokerFrame ignored;
          while (unused.stream->Read(&ignored)) {
          }
          (void)unused.stream->Finish();
        }
        return;
      }
      if (opened.ok()) {
        c = opened->first;
        Install(c, opened->second, /*reconnect=*/true);
        {
          absl::MutexLock lock(&mu);
          if (closed) c->context.TryCancel();
        }
        break;
      }
      if (IsFinal(opened.status().code())) {
        absl::MutexLock lock(&mu);
        spdlog::error("client {}: cannot register again: {}", options.agent_id,
                      opened.status().ToString());
        Fail(opened.status());
        return;
      }
      UseNextAddress();  // failover: the next broker of the list
      backoff = retry.Next();
    }
  }
}

absl::Status Client::State::ChangeSubscription(const std::string& topic, bool subscribe,
                                               absl::Duration timeout) {
  State& s = *this;
  const uint64_t seq = s.next_seq.fetch_add(1);
  const absl::Time deadline = absl::Now() + timeout;
  std::shared_ptr<BrokerConnection> c;
  {
    absl::MutexLock lock(&s.mu);
    absl::Status ready = s.AwaitReady([&s]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return s.connected; },
                                      deadline, "the connection");
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
  s.Write(c.get(), std::move(frame), seq, deadline);
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

absl::Status Client::State::AwaitReady(const std::function<bool()>& ready, absl::Time deadline,
                                       absl::string_view what) {
  auto cond = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu) { return closed || !fatal.ok() || ready(); };
  mu.AwaitWithDeadline(absl::Condition(&cond), deadline);
  if (ready()) return absl::OkStatus();
  if (closed) return absl::CancelledError("the client was closed");
  if (!fatal.ok()) return fatal;
  return absl::DeadlineExceededError(absl::StrCat("timed out waiting for ", what));
}

}  // namespace latentbus::agent
