#include "bench/jetstream_transport.h"

#include <nats/nats.h>

#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "broker/nats_link.h"

namespace latentbus::bench {
namespace {

constexpr char kStream[] = "BENCHJS";
// How long one fetch waits. Long: a message that reaches the client just after its fetch
// gave up is dropped by libnats and redelivered only after the ack wait (30 s), i.e. lost
// to the phase; Close waits for at most this long.
constexpr int64_t kFetchTimeoutMs = 2000;

std::string Subject(const std::string& agent_id) { return absl::StrCat(kStream, ".q.", agent_id); }

}  // namespace

struct JetStreamTransport::Agent {
  int index = 0;
  std::string id;
  std::unique_ptr<broker::NatsLink> link;
  natsSubscription* sub = nullptr;
  std::thread fetcher;
  absl::Mutex send_mu;
  std::string scratch;    // serialisation buffer, guarded by send_mu
  std::string msg_id;     // Nats-Msg-Id of the publish under way, guarded by send_mu
  v1::Envelope envelope;  // the fetch thread's parse buffer
};

JetStreamTransport::JetStreamTransport(std::string servers, int replicas)
    : servers_(std::move(servers)), replicas_(replicas) {}

JetStreamTransport::~JetStreamTransport() { Close(); }

absl::Status JetStreamTransport::Connect(const std::vector<BusAgent>& agents,
                                         BusHandlers handlers) {
  handlers_ = std::move(handlers);
  for (const BusAgent& a : agents) {
    if (!a.topics.empty()) {
      return absl::InvalidArgumentError(
          "the JetStream floor carries direct messages and requests, not topics");
    }
  }
  for (size_t i = 0; i < agents.size(); ++i) {
    auto a = std::make_unique<Agent>();
    a->index = static_cast<int>(i);
    a->id = agents[i].id;
    absl::StatusOr<std::unique_ptr<broker::NatsLink>> link =
        broker::NatsLink::Connect(servers_, absl::StrCat("bench-", a->id));
    if (!link.ok()) return link.status();
    a->link = *std::move(link);
    agents_.push_back(std::move(a));
  }
  if (agents_.empty()) return absl::OkStatus();

  // The stream, once (a cluster may still be settling its meta leader: retry briefly).
  const std::string subjects = absl::StrCat(kStream, ".q.*");
  const char* subject_list[] = {subjects.c_str()};
  jsStreamConfig sc;
  jsStreamConfig_Init(&sc);
  sc.Name = kStream;
  sc.Subjects = subject_list;
  sc.SubjectsLen = 1;
  sc.Retention = js_WorkQueuePolicy;
  sc.Storage = js_FileStorage;
  sc.Replicas = replicas_;
  natsStatus s = NATS_OK;
  jsErrCode jerr = jsErrCode(0);
  const absl::Time give_up = absl::Now() + absl::Seconds(15);
  for (;;) {
    jsStreamInfo* si = nullptr;
    s = js_AddStream(&si, agents_[0]->link->jetstream(), &sc, nullptr, &jerr);
    if (si != nullptr) jsStreamInfo_Destroy(si);
    if (s == NATS_OK || jerr == JSStreamNameExistErr) break;
    if (absl::Now() > give_up) return broker::NatsFailure("creating stream BENCHJS", s, jerr);
    absl::SleepFor(absl::Milliseconds(200));
  }

  for (auto& a : agents_) {
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = kStream;
    so.Config.AckPolicy = js_AckExplicit;
    const std::string durable = absl::StrCat("c", a->index);
    s = js_PullSubscribe(&a->sub, a->link->jetstream(), Subject(a->id).c_str(), durable.c_str(),
                         nullptr, &so, &jerr);
    if (s != NATS_OK) {
      return broker::NatsFailure(absl::StrCat("pull consumer for ", a->id), s, jerr);
    }
    Agent* agent = a.get();
    a->fetcher = std::thread([this, agent] { FetchLoop(agent); });
  }
  return absl::OkStatus();
}

void JetStreamTransport::FetchLoop(Agent* agent) {
  while (!stopping_.load(std::memory_order_acquire)) {
    natsMsgList list = {nullptr, 0};
    jsErrCode jerr = jsErrCode(0);
    const natsStatus s = natsSubscription_Fetch(&list, agent->sub, 1, kFetchTimeoutMs, &jerr);
    if (s == NATS_TIMEOUT) continue;
    if (s != NATS_OK) {  // e.g. a consumer leader change: try again
      absl::SleepFor(absl::Milliseconds(10));
      continue;
    }
    for (int i = 0; i < list.Count; ++i) {
      natsMsg* msg = list.Msgs[i];
      // The pull request, the message, and its ack.
      wire_messages_.fetch_add(3, std::memory_order_relaxed);
      if (agent->envelope.ParseFromArray(natsMsg_GetData(msg), natsMsg_GetDataLength(msg))) {
        BusDelivery delivery{agent->index, &agent->envelope, agent->envelope.sender_id()};
        handlers_.deliver(delivery);
      } else {
        handlers_.failed(agent->index, "", "unparseable");
      }
      natsMsg_Ack(msg, nullptr);
    }
    natsMsgList_Destroy(&list);
  }
}

absl::Status JetStreamTransport::Publish(int from, const std::string& recipient,
                                         const v1::Envelope& envelope) {
  Agent& a = *agents_[from];
  absl::MutexLock lock(&a.send_mu);
  if (envelope.sender_id() == a.id) {
    envelope.SerializeToString(&a.scratch);
  } else {  // the broker would stamp the sender; here the receiver's reply needs it
    v1::Envelope stamped = envelope;
    stamped.set_sender_id(a.id);
    stamped.SerializeToString(&a.scratch);
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  // Deduplication by (sender, message id), as the broker's: ids are unique per sender only.
  a.msg_id = absl::StrCat(a.id, "/", envelope.message_id());
  po.MsgId = a.msg_id.c_str();
  // The publish and its acknowledgement; counted first, since the delivery (and the end
  // of the phase) may come before the acknowledgement does.
  wire_messages_.fetch_add(2, std::memory_order_relaxed);
  jsPubAck* ack = nullptr;
  jsErrCode jerr = jsErrCode(0);
  const natsStatus s = js_Publish(&ack, a.link->jetstream(), Subject(recipient).c_str(),
                                  a.scratch.data(), static_cast<int>(a.scratch.size()), &po, &jerr);
  if (ack != nullptr) jsPubAck_Destroy(ack);
  if (s != NATS_OK) {
    wire_messages_.fetch_sub(2, std::memory_order_relaxed);
    return broker::NatsFailure("JetStream publish", s, jerr);
  }
  return absl::OkStatus();
}

absl::Status JetStreamTransport::Send(int from, const v1::Envelope& envelope) {
  if (envelope.recipient().target_case() != v1::Address::kAgentId) {
    return absl::InvalidArgumentError("the JetStream floor sends to agents only");
  }
  return Publish(from, envelope.recipient().agent_id(), envelope);
}

absl::Status JetStreamTransport::Reply(int from, const BusDelivery& request,
                                       const v1::Envelope& reply) {
  if (request.reply_to.empty()) return absl::FailedPreconditionError("the request has no sender");
  return Publish(from, request.reply_to, reply);
}

void JetStreamTransport::Close() {
  stopping_.store(true, std::memory_order_release);
  for (auto& a : agents_) {
    if (a->fetcher.joinable()) a->fetcher.join();
  }
  // Subscriptions before their connections (libnats 3.4.1); the stream goes with them
  // (the consumers are durable).
  for (auto& a : agents_) {
    if (a->sub != nullptr) {
      natsSubscription_Unsubscribe(a->sub);
      natsSubscription_Destroy(a->sub);
      a->sub = nullptr;
    }
  }
  if (!agents_.empty() && agents_[0]->link != nullptr) {
    js_DeleteStream(agents_[0]->link->jetstream(), kStream, nullptr, nullptr);
  }
  agents_.clear();
}

}  // namespace latentbus::bench
