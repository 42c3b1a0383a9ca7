#include "broker/jetstream_delivery.h"

#include <nats/nats.h>
#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "broker/delivery_trace.h"
#include "broker/errors.h"
#include "broker/hex_token.h"
#include "broker/nats_link.h"
#include "spdlog/spdlog.h"

namespace latentbus::broker {
namespace {

// Marks a stored message that is a BrokerFrame handed on by another broker (Notify).
constexpr char kFrameHeader[] = "Lb-Frame";

// A message of one recipient, for the table of messages not yet delivered.
std::string UndeliveredKey(absl::string_view dedup_key, absl::string_view recipient) {
  return absl::StrCat(dedup_key, absl::string_view("\0", 1), recipient);
}

// Nats-Msg-Id: the (recipient, sender, message id) triple, hashed so any bytes and any
// length fit a header value. Lengths go in first, so ("ab","c") and ("a","bc") differ.
std::string MsgId(absl::string_view recipient, absl::string_view key) {
  const std::string input = absl::StrCat(recipient.size(), ":", recipient, key);
  const XXH128_hash_t h = XXH3_128bits(input.data(), input.size());
  return absl::StrFormat("%016x%016x", h.high64, h.low64);
}

// The delivery count and stream sequence in a JetStream ack subject:
//   $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<time>.<pending>
//   $JS.ACK.<domain>.<account>.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<time>.<pending>[.<token>]
bool ParseAckSubject(absl::string_view subject, uint32_t* delivered, uint64_t* stream_seq) {
  std::vector<absl::string_view> t = absl::StrSplit(subject, '.');
  if (t.size() < 9 || t[0] != "$JS" || t[1] != "ACK") return false;
  const size_t at = t.size() == 9 ? 4 : 6;
  return absl::SimpleAtoi(t[at], delivered) && absl::SimpleAtoi(t[at + 1], stream_seq);
}

}  // namespace

std::string JetStreamDelivery::SubjectFor(const std::string& stream, const std::string& recipient) {
  return absl::StrCat(stream, ".q.", HexToken(recipient));
}

class JetStreamDelivery::Impl {
 public:
  Impl(Options options, Metrics* metrics)
      : options_(std::move(options)),
        metrics_(metrics),
        subject_prefix_(absl::StrCat(options_.stream, ".q.")) {}
  ~Impl() { Close(); }

  absl::Status Open();
  void Close();

  absl::Status Enqueue(const std::string& recipient, QueuedMessage message);
  uint32_t Attach(const std::string& recipient, std::shared_ptr<AgentSession> session,
                  uint32_t credits);
  void Detach(const std::string& recipient, const AgentSession* session);
  void AddCredits(const std::string& recipient, const AgentSession* session, uint32_t credits);
  void Resume(const std::string& recipient, const AgentSession* session);
  absl::Status Ack(const std::string& recipient, const std::string& sender_id,
                   const std::string& message_id);
  size_t AckThrough(const std::string& recipient, const AgentSession* session,
                    uint64_t delivery_seq);
  bool Expire(const std::string& recipient, const std::string& sender_id,
              const std::string& message_id);
  uint32_t Pending(const std::string& recipient) const;
  std::vector<RecipientStats> Stats() const;
  size_t ReleaseAbsent(absl::Time now);
  bool AwaitEmpty(absl::Time deadline);
  void Quiesce(const std::string& recipient, const AgentSession* session);
  bool Notify(const std::string& agent_id, const v1::BrokerFrame& frame);
  void SetReplyDelivered(ReplyDelivered callback) {
    absl::MutexLock lock(&mu_);
    reply_delivered_ = std::move(callback);
  }

  void ShuttingDown() {
    if (link_ != nullptr) link_->CloseWhenServersGone();
  }

 private:
  struct Delivered {
    uint64_t delivery_seq;
    std::string key;
    std::string ack_subject;
    absl::Time progress;  // handed to the session, or last told JetStream it is in progress
  };
  struct Recipient {
    std::string consumer;  // durable name
    bool consumer_ready = false;
    std::shared_ptr<AgentSession> session;
    // No more pull requests for the session (its broker is draining): it gets what open
    // ones bring, and Detach hands back what it did not ack.
    bool quiesced = false;
    uint32_t credits = 0;
    bool acks_return_credits = false;
    uint64_t last_delivery_seq = 0;
    std::deque<Delivered> unacked;       // delivery order
    uint64_t requested = 0;              // messages asked for by pull requests still open
    std::deque<uint64_t> open_requests;  // their ids, oldest first
    absl::Time absent_since = absl::InfinitePast();
  };
  struct PullRequest {
    std::string recipient;
    uint64_t remaining;
    absl::Time expires;
  };

  static void OnMessage(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    static_cast<Impl*>(closure)->HandleMessage(msg);
    natsMsg_Destroy(msg);
  }
  // libnats calls this once the closed inbox subscription's handler has returned for good.
  static void OnInboxComplete(void* closure) { static_cast<Impl*>(closure)->inbox_done_.Notify(); }
  void HandleMessage(natsMsg* msg);
  void Deliver(const std::string& recipient, Recipient& r, natsMsg* msg)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Opens pull requests for credits not yet covered by one.
  void Pump(const std::string& recipient, Recipient& r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Acks `d`, forgets it, returns its credit when the session asked for that.
  void AckDelivered(Recipient& r, const Delivered& d) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PublishAck(const std::string& ack_subject, const char* verb);
  // Finds or creates the recipient's durable consumer; how many messages wait for it.
  absl::StatusOr<uint64_t> EnsureConsumer(const std::string& recipient);
  absl::StatusOr<jsConsumerInfo*> ConsumerInfo(const std::string& recipient) const;
  void Tick();
  bool NoUnacked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return unacked_total_ == 0; }
  bool Stopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; }

  const Options options_;
  Metrics* const metrics_;
  const std::string subject_prefix_;  // "<stream>.q.", before the recipient's hex token
  std::unique_ptr<NatsLink> link_;
  natsConnection* nc_ = nullptr;  // link_'s
  jsCtx* js_ = nullptr;           // link_'s
  natsSubscription* inbox_sub_ = nullptr;
  absl::Notification inbox_done_;  // OnInboxComplete ran
  std::string inbox_prefix_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Recipient> recipients_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, PullRequest> requests_ ABSL_GUARDED_BY(mu_);
  uint64_t next_request_ ABSL_GUARDED_BY(mu_) = 1;
  // Messages this broker published and has not seen delivered: key -> stream sequence
  // (Expire deletes only these). Bounded: the oldest are forgotten first.
  absl::flat_hash_map<std::string, uint64_t> undelivered_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> undelivered_order_ ABSL_GUARDED_BY(mu_);
  uint64_t unacked_total_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread ticker_;
  ReplyDelivered reply_delivered_ ABSL_GUARDED_BY(mu_);
};

absl::Status JetStreamDelivery::Impl::Open() {
  absl::StatusOr<std::unique_ptr<NatsLink>> link =
      NatsLink::Connect(options_.servers, options_.broker_name);
  if (!link.ok()) return link.status();
  link_ = *std::move(link);
  nc_ = link_->connection();
  js_ = link_->jetstream();
  natsStatus s = NATS_OK;

  const std::string subjects = absl::StrCat(options_.stream, ".q.*");
  const char* subject_list[] = {subjects.c_str()};
  jsStreamConfig sc;
  jsStreamConfig_Init(&sc);
  sc.Name = options_.stream.c_str();
  sc.Subjects = subject_list;
  sc.SubjectsLen = 1;
  sc.Retention = js_WorkQueuePolicy;
  sc.Storage = js_FileStorage;
  sc.Replicas = options_.replicas;
  sc.Discard = js_DiscardNew;
  sc.DiscardNewPerSubject = true;
  sc.MaxMsgsPerSubject = options_.max_queue_depth;
  sc.MaxBytes = static_cast<int64_t>(options_.max_total_bytes);
  // Room for the envelope's framing on top of the largest message the broker accepts.
  sc.MaxMsgSize =
      static_cast<int32_t>(std::min<uint64_t>(options_.max_message_bytes + 65536, INT32_MAX));
  sc.Duplicates = absl::ToInt64Nanoseconds(options_.dedup_window_time);
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = jsErrCode(0);
  const absl::Time give_up = absl::Now() + options_.publish_timeout;
  for (;;) {
    s = js_AddStream(&si, js_, &sc, nullptr, &jerr);
    if (s == NATS_OK) break;
    if (jerr == JSStreamNameExistErr) {  // exists with another configuration: bring it to ours
      s = js_UpdateStream(&si, js_, &sc, nullptr, &jerr);
      if (s == NATS_OK) break;
    }
    // A cluster still electing its meta leader answers late, or not yet.
    const bool transient = s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS ||
                           jerr == JSClusterNotAvailErr || jerr == JSClusterNoPeersErr ||
                           jerr == JSClusterNotLeaderErr;
    if (!transient || absl::Now() > give_up) {
      if (s == NATS_NO_RESPONDERS || jerr == JSNotEnabledForAccountErr) {
        return absl::FailedPreconditionError(
            absl::StrCat("the NATS servers at ", options_.servers,
                         " do not run JetStream (start them with -js / a jetstream block)"));
      }
      return NatsFailure(absl::StrCat("creating stream ", options_.stream), s, jerr);
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
  jsStreamInfo_Destroy(si);

  natsInbox* inbox = nullptr;
  s = natsInbox_Create(&inbox);
  if (s != NATS_OK) return NatsFailure("inbox", s);
  inbox_prefix_ = inbox;  // "_INBOX.<unique>": pull request i is answered on <prefix>.<i>
  natsInbox_Destroy(inbox);
  s = natsConnection_Subscribe(&inbox_sub_, nc_, absl::StrCat(inbox_prefix_, ".*").c_str(),
                               &Impl::OnMessage, this);
  if (s == NATS_OK) s = natsSubscription_SetPendingLimits(inbox_sub_, -1, 256 << 20);
  if (s == NATS_OK) s = natsSubscription_SetOnCompleteCB(inbox_sub_, &Impl::OnInboxComplete, this);
  if (s != NATS_OK) return NatsFailure("subscribing to the pull inbox", s);
  ticker_ = std::thread([this] { Tick(); });
  spdlog::info("delivery: JetStream stream {} (R{}, file storage) at {}", options_.stream,
               options_.replicas, options_.servers);
  return absl::OkStatus();
}

void JetStreamDelivery::Impl::Close() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    // Everything this broker holds unacked goes back to JetStream for the next session.
    for (auto& [id, r] : recipients_) {
      for (const Delivered& d : r.unacked) PublishAck(d.ack_subject, "-NAK");
      r.unacked.clear();
      r.session.reset();
    }
  }
  // With the servers gone there is nothing to drain: close now, so that the ticker's
  // JetStream calls return at once instead of after their 5 s timeouts.
  const bool closed = link_ != nullptr && link_->CloseIfServersGone();
  if (ticker_.joinable()) ticker_.join();
  // Subscriptions go before the connection (destroying one while a message arrives could
  // crash libnats 3.4.1).
  if (inbox_sub_ != nullptr) {
    if (!closed) {
      if (natsSubscription_Drain(inbox_sub_) == NATS_OK) {
        natsSubscription_WaitForDrainCompletion(inbox_sub_, 2000);
      }
    } else {
      // Closed with the connection: messages already received may still be in dispatch;
      // wait until the handler has returned for good (it returns at once when stopping).
      inbox_done_.WaitForNotificationWithTimeout(absl::Seconds(2));
    }
    natsSubscription_Destroy(inbox_sub_);
    inbox_sub_ = nullptr;
  }
  link_.reset();
  nc_ = nullptr;
  js_ = nullptr;
}

absl::Status JetStreamDelivery::Impl::Enqueue(const std::string& recipient, QueuedMessage message) {
  const v1::Envelope& env = *message.envelope;
  const std::string key = DedupKey(env.sender_id(), env.message_id());
  const std::string data = env.SerializeAsString();
  const std::string subject = SubjectFor(options_.stream, recipient);
  const std::string msg_id = MsgId(recipient, key);
  const std::string accepted = absl::StrCat(absl::ToUnixNanos(message.accepted_at));
  natsMsg* msg = nullptr;
  natsStatus s =
      natsMsg_Create(&msg, subject.c_str(), nullptr, data.data(), static_cast<int>(data.size()));
  if (s == NATS_OK) s = natsMsgHeader_Set(msg, "Lb-Accepted", accepted.c_str());
  if (const std::string trace = TraceHeader(message.trace); s == NATS_OK && !trace.empty()) {
    s = natsMsgHeader_Set(msg, "Lb-Trace", trace.c_str());
  }
  if (s != NATS_OK) {
    natsMsg_Destroy(msg);
    return NatsFailure("building the JetStream message", s);
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MsgId = msg_id.c_str();
  po.ExpectStream = options_.stream.c_str();
  po.MaxWait = 2000;
  const absl::Time start = absl::Now(), give_up = start + options_.publish_timeout;
  jsPubAck* ack = nullptr;
  jsErrCode jerr = jsErrCode(0);
  bool transient = false;
  for (;;) {
    jerr = jsErrCode(0);
    s = js_PublishMsg(&ack, js_, msg, &po, &jerr);
    // No answer, or none yet from a stream leader (one being elected, a server
    // restarting; libnats reports a 503 "no responders" as error 10076): the same message
    // id again, so a publish that did land is stored once.
    // 10158, "duplicate message id is in process": the same id is being stored by an
    // earlier publish (a sender's resend while ours still waits); wait for its outcome.
    transient = s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS || s == NATS_NOT_YET_CONNECTED ||
                (s != NATS_OK &&
                 (jerr == JSNotEnabledErr || jerr == JSClusterNotAvailErr ||
                  jerr == JSClusterNotLeaderErr || jerr == JSStreamOfflineErr || jerr == 10158));
    if (!transient || absl::Now() > give_up) break;
    if (metrics_ != nullptr) metrics_->Increment("latentbus_jetstream_publish_retries_total");
    absl::SleepFor(absl::Milliseconds(100));
  }
  natsMsg_Destroy(msg);
  if (metrics_ != nullptr) {
    metrics_->Observe("latentbus_jetstream_publish_seconds",
                      absl::ToDoubleSeconds(absl::Now() - start));
  }
  if (transient) {
    return absl::UnavailableError(absl::StrCat(
        "JetStream stored nothing within ", absl::FormatDuration(options_.publish_timeout),
        " (no stream leader answered: ", natsStatus_GetText(s), "); send again"));
  }
  if (s == NATS_MAX_PAYLOAD) {
    return BrokerError(v1::MESSAGE_TOO_LARGE,
                       absl::StrCat(data.size(), " bytes exceed the NATS servers' max_payload"));
  }
  if (s != NATS_OK) {
    if (jerr != 0) {
      const char* text = nats_GetLastError(nullptr);
      const std::string why = text != nullptr ? text : natsStatus_GetText(s);
      // Limits: messages per subject (10077), bytes or messages in the stream.
      if (jerr == 10077 || jerr == JSStreamLimitsErr || jerr == JSStorageResourcesExceededErr ||
          jerr == JSMemoryResourcesExceededErr || jerr == JSInsufficientResourcesErr) {
        return BrokerError(v1::QUEUE_FULL, absl::StrCat("queue of ", recipient, " is full (",
                                                        options_.max_queue_depth,
                                                        " messages per recipient): ", why));
      }
      if (jerr == JSStreamMessageExceedsMaximumErr) {
        return BrokerError(v1::MESSAGE_TOO_LARGE, why);
      }
    }
    return NatsFailure(absl::StrCat("publishing to ", options_.stream), s, jerr);
  }
  const bool duplicate = ack->Duplicate;
  const uint64_t seq = ack->Sequence;
  jsPubAck_Destroy(ack);
  if (duplicate) {
    return absl::AlreadyExistsError(
        absl::StrCat("duplicate message ", env.message_id(), " from ", env.sender_id()));
  }
  absl::MutexLock lock(&mu_);
  std::string entry = UndeliveredKey(key, recipient);
  undelivered_[entry] = seq;
  undelivered_order_.push_back(std::move(entry));
  while (undelivered_order_.size() > 65536) {
    undelivered_.erase(undelivered_order_.front());
    undelivered_order_.pop_front();
  }
  return absl::OkStatus();
}

absl::StatusOr<jsConsumerInfo*> JetStreamDelivery::Impl::ConsumerInfo(
    const std::string& recipient) const {
  const std::string name = absl::StrCat("r", HexToken(recipient));
  jsConsumerInfo* ci = nullptr;
  jsErrCode jerr = jsErrCode(0);
  natsStatus s =
      js_GetConsumerInfo(&ci, js_, options_.stream.c_str(), name.c_str(), nullptr, &jerr);
  if (s == NATS_OK) return ci;
  if (jerr == JSConsumerNotFoundErr) return absl::NotFoundError(name);
  return NatsFailure(absl::StrCat("consumer info of ", name), s, jerr);
}

absl::StatusOr<uint64_t> JetStreamDelivery::Impl::EnsureConsumer(const std::string& recipient) {
  absl::StatusOr<jsConsumerInfo*> info = ConsumerInfo(recipient);
  if (info.ok()) {
    const uint64_t waiting = (*info)->NumPending + static_cast<uint64_t>((*info)->NumAckPending);
    jsConsumerInfo_Destroy(*info);
    return waiting;
  }
  if (!absl::IsNotFound(info.status())) return info.status();
  const std::string name = absl::StrCat("r", HexToken(recipient));
  const std::string filter = SubjectFor(options_.stream, recipient);
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = name.c_str();
  cc.AckPolicy = js_AckExplicit;
  cc.AckWait = absl::ToInt64Nanoseconds(options_.ack_wait);
  cc.MaxDeliver = -1;
  cc.FilterSubject = filter.c_str();
  cc.DeliverPolicy = js_DeliverAll;
  cc.MaxAckPending = options_.max_queue_depth;
  cc.MaxWaiting = 512;
  jsConsumerInfo* ci = nullptr;
  jsErrCode jerr = jsErrCode(0);
  natsStatus s = js_AddConsumer(&ci, js_, options_.stream.c_str(), &cc, nullptr, &jerr);
  if (s != NATS_OK) return NatsFailure(absl::StrCat("creating consumer ", name), s, jerr);
  const uint64_t waiting = ci->NumPending + static_cast<uint64_t>(ci->NumAckPending);
  jsConsumerInfo_Destroy(ci);
  return waiting;
}

uint32_t JetStreamDelivery::Impl::Attach(const std::string& recipient,
                                         std::shared_ptr<AgentSession> session, uint32_t credits) {
  absl::StatusOr<uint64_t> waiting = EnsureConsumer(recipient);
  if (!waiting.ok()) {
    spdlog::error("delivery: {} (retrying)", std::string(waiting.status().message()));
  }
  absl::MutexLock lock(&mu_);
  Recipient& r = recipients_[recipient];
  r.consumer = absl::StrCat("r", HexToken(recipient));
  r.consumer_ready = waiting.ok();
  // A previous session's deliveries go back to JetStream and come again to this one.
  for (const Delivered& d : r.unacked) PublishAck(d.ack_subject, "-NAK");
  unacked_total_ -= r.unacked.size();
  r.unacked.clear();
  r.acks_return_credits = session->AcksReturnCredits();
  r.session = std::move(session);
  r.quiesced = false;
  r.credits = credits;
  r.last_delivery_seq = 0;
  r.absent_since = absl::InfiniteFuture();
  Pump(recipient, r);
  return waiting.ok() ? static_cast<uint32_t>(std::min<uint64_t>(*waiting, UINT32_MAX)) : 0;
}

void JetStreamDelivery::Impl::Detach(const std::string& recipient, const AgentSession* session) {
  absl::MutexLock lock(&mu_);
  auto it = recipients_.find(recipient);
  if (it == recipients_.end() || it->second.session.get() != session) return;
  Recipient& r = it->second;
  for (const Delivered& d : r.unacked) PublishAck(d.ack_subject, "-NAK");
  unacked_total_ -= r.unacked.size();
  r.unacked.clear();
  r.session.reset();
  r.credits = 0;
  r.absent_since = absl::Now();
}

void JetStreamDelivery::Impl::AddCredits(const std::string& recipient, const AgentSession* session,
                                         uint32_t credits) {
  absl::MutexLock lock(&mu_);
  auto it = recipients_.find(recipient);
  if (it == recipients_.end() || it->second.session.get() != session) return;
  Recipient& r = it->second;
  const uint64_t total = uint64_t{r.credits} + credits;
  r.credits = total > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(total);
  Pump(recipient, r);
}

void JetStreamDelivery::Impl::Resume(const std::string& recipient, const AgentSession* session) {
  absl::MutexLock lock(&mu_);
  auto it = recipients_.find(recipient);
  if (it == recipients_.end() || it->second.session.get() != session) return;
  Pump(recipient, it->second);
}

void JetStreamDelivery::Impl::PublishAck(const std::string& ack_subject, const char* verb) {
  if (nc_ == nullptr) return;
  natsStatus s = natsConnection_PublishString(nc_, ack_subject.c_str(), verb);
  if (s != NATS_OK) {
    // Not fatal: an unacked delivery comes again after ack_wait (at-least-once).
    spdlog::warn("delivery: {} for {} not sent: {}", verb, ack_subject, natsStatus_GetText(s));
  }
}

void JetStreamDelivery::Impl::AckDelivered(Recipient& r, const Delivered& d) {
  PublishAck(d.ack_subject, "+ACK");
  --unacked_total_;
  if (r.acks_return_credits && r.credits < UINT32_MAX) ++r.credits;
}

absl::Status JetStreamDelivery::Impl::Ack(const std::string& recipient,
                                          const std::string& sender_id,
                                          const std::string& message_id) {
  const std::string key = DedupKey(sender_id, message_id);
  absl::MutexLock lock(&mu_);
  auto it = recipients_.find(recipient);
  if (it != recipients_.end()) {
    Recipient& r = it->second;
    for (auto d = r.unacked.begin(); d != r.unacked.end(); ++d) {
      if (d->key == key) {
        AckDelivered(r, *d);
        r.unacked.erase(d);
        Pump(recipient, r);
        return absl::OkStatus();
      }
    }
  }
  return absl::NotFoundError(
      absl::StrCat("no unacked message ", message_id, " from ", sender_id, " for ", recipient));
}

size_t JetStreamDelivery::Impl::AckThrough(const std::string& recipient,
                                           const AgentSession* session, uint64_t delivery_seq) {
  absl::MutexLock lock(&mu_);
  auto it = recipients_.find(recipient);
  if (it == recipients_.end() || it->second.session.get() != session) return 0;
  Recipient& r = it->second;
  size_t acked = 0;
  for (auto d = r.unacked.begin(); d != r.unacked.end();) {
    if (d->delivery_seq <= delivery_seq) {
      AckDelivered(r, *d);
      d = r.unacked.erase(d);
      ++acked;
    } else {
      ++d;
    }
  }
  Pump(recipient, r);
  return acked;
}

bool JetStreamDelivery::Impl::Expire(const std::string& recipient, const std::string& sender_id,
                                     const std::string& message_id) {
  const std::string entry = UndeliveredKey(DedupKey(sender_id, message_id), recipient);
  uint64_t seq = 0;
  {
    absl::MutexLock lock(&mu_);
    auto it = undelivered_.find(entry);
    if (it == undelivered_.end()) return false;
    seq = it->second;
    undelivered_.erase(it);
  }
  jsErrCode jerr = jsErrCode(0);
  natsStatus s = js_DeleteMsg(js_, options_.stream.c_str(), seq, nullptr, &jerr);
  return s == NATS_OK;
}

void JetStreamDelivery::Impl::Pump(const std::string& recipient, Recipient& r) {
  if (!r.session || r.quiesced || !r.consumer_ready || stopping_ || r.session->Backlogged()) {
    return;
  }
  if (r.credits <= r.requested) return;
  const uint64_t want = r.credits - r.requested;
  // One request for a few more credits while a bigger one is open costs more than it
  // saves; wait until a quarter of the window is uncovered.
  if (r.requested > 0 && want < std::max<uint64_t>(1, r.credits / 4)) return;
  const uint64_t id = next_request_++;
  const std::string inbox = absl::StrCat(inbox_prefix_, ".", id);
  const std::string subject =
      absl::StrCat("$JS.API.CONSUMER.MSG.NEXT.", options_.stream, ".", r.consumer);
  const std::string body = absl::StrCat(
      "{\"batch\":", want, ",\"expires\":", absl::ToInt64Nanoseconds(options_.pull_expiry), "}");
  natsStatus s = natsConnection_PublishRequest(nc_, subject.c_str(), inbox.c_str(), body.data(),
                                               static_cast<int>(body.size()));
  if (s != NATS_OK) return;  // the ticker tries again
  requests_[id] = PullRequest{recipient, want, absl::Now() + options_.pull_expiry};
  r.open_requests.push_back(id);
  r.requested += want;
}

void JetStreamDelivery::Impl::HandleMessage(natsMsg* msg) {
  const absl::string_view subject = natsMsg_GetSubject(msg);
  absl::MutexLock lock(&mu_);
  if (stopping_) return;  // Close: what is unacked went back to JetStream
  const char* status = nullptr;
  if (natsMsgHeader_Get(msg, "Status", &status) == NATS_OK && status != nullptr) {
    // A status answers the request on its own inbox: 408 the request expired, 409 the
    // consumer went away or has too many waiting, 404 nothing to give (no_wait). The
    // request is over either way.
    uint64_t id = 0;
    const size_t dot = subject.rfind('.');
    if (dot == absl::string_view::npos || !absl::SimpleAtoi(subject.substr(dot + 1), &id)) return;
    auto req = requests_.find(id);
    if (req == requests_.end()) return;
    const std::string recipient = req->second.recipient;
    auto r = recipients_.find(recipient);
    if (r != recipients_.end()) {
      r->second.requested -= std::min(r->second.requested, req->second.remaining);
    }
    requests_.erase(req);
    if (r != recipients_.end()) Pump(recipient, r->second);
    return;
  }
  const char* reply = natsMsg_GetReply(msg);
  if (reply == nullptr) return;
  // A message keeps its stream subject, <stream>.q.<hex of the recipient>.
  std::string recipient;
  if (!absl::StartsWith(subject, subject_prefix_) ||
      !FromHexToken(subject.substr(subject_prefix_.size()), &recipient)) {
    PublishAck(reply, "+TERM");  // not ours
    return;
  }
  auto r = recipients_.find(recipient);
  if (r == recipients_.end()) {
    PublishAck(reply, "-NAK {\"delay\":1000000000}");
    return;
  }
  // It answers the oldest open request of this recipient.
  Recipient& rec = r->second;
  while (!rec.open_requests.empty()) {
    auto req = requests_.find(rec.open_requests.front());
    if (req == requests_.end()) {
      rec.open_requests.pop_front();
      continue;
    }
    if (--req->second.remaining == 0) {
      requests_.erase(req);
      rec.open_requests.pop_front();
    }
    break;
  }
  if (rec.requested > 0) --rec.requested;
  Deliver(recipient, rec, msg);
}

void JetStreamDelivery::Impl::Deliver(const std::string& recipient, Recipient& r, natsMsg* msg) {
  const std::string ack_subject = natsMsg_GetReply(msg);
  const char* is_frame = nullptr;
  if (natsMsgHeader_Get(msg, kFrameHeader, &is_frame) == NATS_OK && r.session) {
    // A frame another broker handed on (Notify): written as it is, acked at once; the pull
    // request it used is made up for.
    v1::BrokerFrame frame;
    if (frame.ParseFromArray(natsMsg_GetData(msg), natsMsg_GetDataLength(msg))) {
      r.session->Push(std::move(frame));
    }
    PublishAck(ack_subject, "+ACK");
    Pump(recipient, r);
    return;
  }
  if (!r.session || r.credits == 0 || r.session->Backlogged()) {
    // The pull request outlived its session (or its credits): back to JetStream shortly.
    PublishAck(ack_subject, "-NAK {\"delay\":1000000000}");
    return;
  }
  v1::BrokerFrame frame;
  v1::Envelope* env = frame.mutable_deliver()->mutable_envelope();
  if (!env->ParseFromArray(natsMsg_GetData(msg), natsMsg_GetDataLength(msg))) {
    spdlog::error("delivery: a stored message for {} does not parse; dropped",
                  absl::CHexEscape(recipient));
    PublishAck(ack_subject, "+TERM");
    return;
  }
  uint32_t attempt = 1;
  uint64_t stream_seq = 0;
  ParseAckSubject(ack_subject, &attempt, &stream_seq);
  env->set_delivery_attempt(attempt);
  std::string key = DedupKey(env->sender_id(), env->message_id());
  const v1::PayloadForm form = env->delivered_form();
  if (reply_delivered_ && !env->correlation_id().empty()) reply_delivered_(recipient, *env);
  frame.mutable_deliver()->set_delivery_seq(r.last_delivery_seq + 1);
  const char* trace_header = nullptr;
  telemetry::SpanContext broker_span;
  absl::Time accepted_at = absl::Now();
  if (options_.tracer != nullptr && natsMsgHeader_Get(msg, "Lb-Trace", &trace_header) == NATS_OK &&
      trace_header != nullptr) {
    broker_span = ParseTraceHeader(trace_header);
    const char* accepted = nullptr;
    int64_t nanos = 0;
    if (natsMsgHeader_Get(msg, "Lb-Accepted", &accepted) == NATS_OK && accepted != nullptr &&
        absl::SimpleAtoi(accepted, &nanos)) {
      accepted_at = absl::FromUnixNanos(nanos);
    }
  }
  DeliveryTrace trace(options_.tracer, broker_span, accepted_at, recipient, env);
  if (!r.session->Push(std::move(frame))) {
    trace.Failed("the stream is ending");
    PublishAck(ack_subject, "-NAK");  // the stream is ending; Detach follows
    return;
  }
  undelivered_.erase(UndeliveredKey(key, recipient));
  r.unacked.push_back(Delivered{++r.last_delivery_seq, std::move(key), ack_subject, absl::Now()});
  ++unacked_total_;
  --r.credits;
  if (metrics_ != nullptr) {
    metrics_->Increment("latentbus_deliveries_total", {{"form", FormName(form)}});
    if (attempt == 1) {
      const char* accepted = nullptr;
      int64_t nanos = 0;
      if (natsMsgHeader_Get(msg, "Lb-Accepted", &accepted) == NATS_OK && accepted != nullptr &&
          absl::SimpleAtoi(accepted, &nanos)) {
        metrics_->Observe("latentbus_residence_seconds",
                          absl::ToDoubleSeconds(absl::Now() - absl::FromUnixNanos(nanos)));
      }
    } else {
      metrics_->Increment("latentbus_redeliveries_total");
    }
  }
}

uint32_t JetStreamDelivery::Impl::Pending(const std::string& recipient) const {
  absl::StatusOr<jsConsumerInfo*> info = ConsumerInfo(recipient);
  if (!info.ok()) return 0;
  const uint64_t n = (*info)->NumPending + static_cast<uint64_t>((*info)->NumAckPending);
  jsConsumerInfo_Destroy(*info);
  return static_cast<uint32_t>(std::min<uint64_t>(n, UINT32_MAX));
}

std::vector<RecipientStats> JetStreamDelivery::Impl::Stats() const {
  std::vector<RecipientStats> out;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, r] : recipients_) {
      if (!r.session && r.unacked.empty()) continue;
      out.push_back(RecipientStats{id, 0, static_cast<uint32_t>(r.unacked.size()), 0, r.credits,
                                   r.session != nullptr});
    }
  }
  for (RecipientStats& s : out) {
    absl::StatusOr<jsConsumerInfo*> info = ConsumerInfo(s.agent_id);
    if (!info.ok()) continue;
    s.queued = static_cast<uint32_t>(std::min<uint64_t>((*info)->NumPending, UINT32_MAX));
    jsConsumerInfo_Destroy(*info);
  }
  return out;
}

size_t JetStreamDelivery::Impl::ReleaseAbsent(absl::Time now) {
  std::vector<std::string> absent;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, r] : recipients_) {
      if (!r.session && now - r.absent_since >= options_.absent_retention) absent.push_back(id);
    }
  }
  size_t dropped = 0, released = 0;
  for (const std::string& recipient : absent) {
    absl::StatusOr<jsConsumerInfo*> info = ConsumerInfo(recipient);
    if (!info.ok() && !absl::IsNotFound(info.status())) continue;  // ask again next time
    uint64_t pending = 0;
    if (info.ok()) {
      // Someone pulls from it, or it delivered within the retention: the agent is
      // connected to another broker. (A NAKed delivery stays "ack pending" while nobody
      // pulls, so that count cannot tell.)
      const absl::Time last_delivery = absl::FromUnixNanos((*info)->Delivered.Last);
      const bool in_use =
          (*info)->NumWaiting > 0 || now - last_delivery < options_.absent_retention;
      pending = (*info)->NumPending + static_cast<uint64_t>((*info)->NumAckPending);
      jsConsumerInfo_Destroy(*info);
      if (in_use) continue;
    }
    const std::string name = absl::StrCat("r", HexToken(recipient));
    const std::string subject = SubjectFor(options_.stream, recipient);
    jsErrCode jerr = jsErrCode(0);
    js_DeleteConsumer(js_, options_.stream.c_str(), name.c_str(), nullptr, &jerr);
    // The purge API answers how many messages it removed ({"success":true,"purged":N}).
    const std::string api = absl::StrCat("$JS.API.STREAM.PURGE.", options_.stream);
    const std::string request = absl::StrCat("{\"filter\":\"", subject, "\"}");
    natsMsg* answer = nullptr;
    if (natsConnection_Request(&answer, nc_, api.c_str(), request.data(),
                               static_cast<int>(request.size()), 5000) != NATS_OK) {
      continue;
    }
    const absl::string_view body(natsMsg_GetData(answer), natsMsg_GetDataLength(answer));
    uint64_t purged = 0;
    const size_t at = body.find("\"purged\":");
    const bool ok = absl::StrContains(body, "\"success\":true") && at != absl::string_view::npos;
    if (ok) {
      absl::string_view digits = body.substr(at + 9);
      digits = digits.substr(0, digits.find_first_not_of("0123456789"));
      if (!absl::SimpleAtoi(digits, &purged)) purged = pending;
    }
    natsMsg_Destroy(answer);
    if (!ok) continue;
    dropped += purged;
    ++released;
    absl::MutexLock lock(&mu_);
    auto it = recipients_.find(recipient);
    if (it != recipients_.end() && !it->second.session) recipients_.erase(it);
  }
  if (metrics_ != nullptr && released > 0) {
    metrics_->Increment("latentbus_released_recipients_total", {}, static_cast<double>(released));
    metrics_->Increment("latentbus_released_messages_total", {}, static_cast<double>(dropped));
  }
  return dropped;
}

bool JetStreamDelivery::Impl::Notify(const std::string& agent_id, const v1::BrokerFrame& frame) {
  const std::string data = frame.SerializeAsString();
  const std::string subject = SubjectFor(options_.stream, agent_id);
  // Unique per frame: an error is about one message and one reason.
  const std::string msg_id = MsgId(
      agent_id, absl::StrCat("frame/", frame.error().reason(), "/", absl::ToUnixNanos(absl::Now()),
                             "/", frame.error().message_id()));
  natsMsg* msg = nullptr;
  natsStatus s =
      natsMsg_Create(&msg, subject.c_str(), nullptr, data.data(), static_cast<int>(data.size()));
  if (s == NATS_OK) s = natsMsgHeader_Set(msg, kFrameHeader, "1");
  if (s == NATS_OK) s = natsMsgHeader_Set(msg, "Nats-Msg-Id", msg_id.c_str());
  // A plain publish: the stream stores it, nobody waits (the caller is the timer thread).
  if (s == NATS_OK) s = natsConnection_PublishMsg(nc_, msg);
  natsMsg_Destroy(msg);
  if (s != NATS_OK) {
    spdlog::warn("delivery: a frame for {} was not handed on: {}", absl::CHexEscape(agent_id),
                 natsStatus_GetText(s));
    return false;
  }
  return true;
}

void JetStreamDelivery::Impl::Quiesce(const std::string& recipient, const AgentSession* session) {
  absl::MutexLock lock(&mu_);
  auto it = recipients_.find(recipient);
  if (it == recipients_.end() || it->second.session.get() != session) return;
  it->second.quiesced = true;
}

bool JetStreamDelivery::Impl::AwaitEmpty(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithDeadline(absl::Condition(this, &Impl::NoUnacked), deadline);
}

void JetStreamDelivery::Impl::Tick() {
  for (;;) {
    std::vector<std::string> missing_consumers;
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(this, &Impl::Stopping), absl::Milliseconds(250))) {
        return;
      }
      // Requests the server never closed (lost in a reconnect or a leader change).
      const absl::Time stale = absl::Now() - absl::Seconds(2);
      for (auto it = requests_.begin(); it != requests_.end();) {
        if (it->second.expires < stale) {
          auto r = recipients_.find(it->second.recipient);
          if (r != recipients_.end()) {
            r->second.requested -= std::min(r->second.requested, it->second.remaining);
          }
          requests_.erase(it++);
        } else {
          ++it;
        }
      }
      // A live session may hold a delivery longer than ack_wait (a slow handler): tell
      // JetStream it is in progress, so only a dead broker's deliveries come again.
      const absl::Time now = absl::Now(), renew = now - options_.ack_wait / 3;
      for (auto& [id, r] : recipients_) {
        if (r.session && !r.consumer_ready) missing_consumers.push_back(id);
        for (Delivered& d : r.unacked) {
          if (d.progress < renew) {
            PublishAck(d.ack_subject, "+WPI");
            d.progress = now;
          }
        }
        Pump(id, r);
      }
    }
    for (const std::string& id : missing_consumers) {
      if (EnsureConsumer(id).ok()) {
        absl::MutexLock lock(&mu_);
        auto r = recipients_.find(id);
        if (r != recipients_.end()) {
          r->second.consumer_ready = true;
          Pump(id, r->second);
        }
      }
    }
  }
}

// --- the public face ---

JetStreamDelivery::JetStreamDelivery(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JetStreamDelivery::~JetStreamDelivery() = default;

absl::StatusOr<std::unique_ptr<JetStreamDelivery>> JetStreamDelivery::Create(Options options,
                                                                             Metrics* metrics) {
  auto impl = std::make_unique<Impl>(std::move(options), metrics);
  if (absl::Status s = impl->Open(); !s.ok()) return s;
  return std::unique_ptr<JetStreamDelivery>(new JetStreamDelivery(std::move(impl)));
}

absl::Status JetStreamDelivery::Enqueue(const std::string& recipient, QueuedMessage message) {
  return impl_->Enqueue(recipient, std::move(message));
}
uint32_t JetStreamDelivery::Attach(const std::string& recipient,
                                   std::shared_ptr<AgentSession> session, uint32_t credits) {
  return impl_->Attach(recipient, std::move(session), credits);
}
void JetStreamDelivery::Detach(const std::string& recipient, const AgentSession* session) {
  impl_->Detach(recipient, session);
}
void JetStreamDelivery::AddCredits(const std::string& recipient, const AgentSession* session,
                                   uint32_t credits) {
  impl_->AddCredits(recipient, session, credits);
}
void JetStreamDelivery::Resume(const std::string& recipient, const AgentSession* session) {
  impl_->Resume(recipient, session);
}
void JetStreamDelivery::Quiesce(const std::string& recipient, const AgentSession* session) {
  impl_->Quiesce(recipient, session);
}
bool JetStreamDelivery::Notify(const std::string& agent_id, const v1::BrokerFrame& frame) {
  return impl_->Notify(agent_id, frame);
}
absl::Status JetStreamDelivery::Ack(const std::string& recipient, const std::string& sender_id,
                                    const std::string& message_id) {
  return impl_->Ack(recipient, sender_id, message_id);
}
size_t JetStreamDelivery::AckThrough(const std::string& recipient, const AgentSession* session,
                                     uint64_t delivery_seq) {
  return impl_->AckThrough(recipient, session, delivery_seq);
}
bool JetStreamDelivery::Expire(const std::string& recipient, const std::string& sender_id,
                               const std::string& message_id) {
  return impl_->Expire(recipient, sender_id, message_id);
}
uint32_t JetStreamDelivery::Pending(const std::string& recipient) const {
  return impl_->Pending(recipient);
}
std::vector<RecipientStats> JetStreamDelivery::Stats() const { return impl_->Stats(); }
size_t JetStreamDelivery::ReleaseAbsent(absl::Time now) { return impl_->ReleaseAbsent(now); }
bool JetStreamDelivery::AwaitEmpty(absl::Time deadline) { return impl_->AwaitEmpty(deadline); }
void JetStreamDelivery::ShuttingDown() { impl_->ShuttingDown(); }
void JetStreamDelivery::SetReplyDelivered(ReplyDelivered callback) {
  impl_->SetReplyDelivered(std::move(callback));
}

}  // namespace latentbus::broker
