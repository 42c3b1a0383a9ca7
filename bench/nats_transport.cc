#include "bench/nats_transport.h"

#include <nats/nats.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace latentbus::bench {
namespace {

absl::Status NatsError(natsStatus s, absl::string_view what) {
  return absl::UnavailableError(absl::StrCat(what, ": ", natsStatus_GetText(s)));
}

void MessageCallback(natsConnection* /*nc*/, natsSubscription* /*sub*/, natsMsg* msg,
                     void* closure);

void ErrorCallback(natsConnection* /*nc*/, natsSubscription* /*sub*/, natsStatus err,
                   void* closure) {
  if (err == NATS_SLOW_CONSUMER) static_cast<NatsTransport*>(closure)->OnSlowConsumer();
}

}  // namespace

// One async subscription: its delivery thread owns `envelope` (the parse buffer).
struct NatsTransport::Subscription {
  NatsTransport* transport = nullptr;
  int agent = 0;
  natsSubscription* sub = nullptr;
  v1::Envelope envelope;
};

struct NatsTransport::Agent {
  std::string id;
  std::string inbox;
  natsOptions* options = nullptr;
  natsConnection* connection = nullptr;
  std::vector<std::unique_ptr<Subscription>> subscriptions;
  std::string scratch;  // serialisation buffer, guarded by the agent's send mutex
  absl::Mutex send_mu;
};

namespace {

void MessageCallback(natsConnection* /*nc*/, natsSubscription* /*sub*/, natsMsg* msg,
                     void* closure) {
  auto* s = static_cast<NatsTransport::Subscription*>(closure);
  s->transport->OnMessage(s, natsMsg_GetData(msg), natsMsg_GetDataLength(msg),
                          natsMsg_GetReply(msg));
  natsMsg_Destroy(msg);
}

std::string AgentSubject(const std::string& id) { return absl::StrCat("bench.agent.", id); }
std::string TopicSubject(const std::string& topic) { return absl::StrCat("bench.topic.", topic); }

}  // namespace

NatsTransport::NatsTransport(std::string url) : url_(std::move(url)) {}

NatsTransport::~NatsTransport() { Close(); }

absl::Status NatsTransport::Connect(const std::vector<BusAgent>& agents, BusHandlers handlers) {
  handlers_ = std::move(handlers);
  for (size_t i = 0; i < agents.size(); ++i) {
    auto a = std::make_unique<Agent>();
    a->id = agents[i].id;
    a->inbox = absl::StrCat("bench.inbox.", a->id);
    natsStatus s = natsOptions_Create(&a->options);
    if (s == NATS_OK) s = natsOptions_SetURL(a->options, url_.c_str());
    if (s == NATS_OK) s = natsOptions_SetSendAsap(a->options, true);
    if (s == NATS_OK) s = natsOptions_SetErrorHandler(a->options, ErrorCallback, this);
    if (s == NATS_OK) s = natsConnection_Connect(&a->connection, a->options);
    Agent* agent = a.get();
    agents_.push_back(std::move(a));
    if (s != NATS_OK) return NatsError(s, absl::StrCat("nats agent ", agents[i].id));
    std::vector<std::string> subjects = {AgentSubject(agent->id), agent->inbox};
    for (const std::string& t : agents[i].topics) subjects.push_back(TopicSubject(t));
    for (const std::string& subject : subjects) {
      auto sub = std::make_unique<Subscription>();
      sub->transport = this;
      sub->agent = static_cast<int>(i);
      s = natsConnection_Subscribe(&sub->sub, agent->connection, subject.c_str(), MessageCallback,
                                   sub.get());
      if (s != NATS_OK) return NatsError(s, absl::StrCat("subscribe ", subject));
      agent->subscriptions.push_back(std::move(sub));
    }
    // The server has seen the subscriptions once a flush round trip returns.
    s = natsConnection_FlushTimeout(agent->connection, 10000);
    if (s != NATS_OK) return NatsError(s, absl::StrCat("flush ", agent->id));
  }
  return absl::OkStatus();
}

void NatsTransport::OnMessage(Subscription* sub, const char* data, int length, const char* reply) {
  wire_messages_.fetch_add(1, std::memory_order_relaxed);
  if (!sub->envelope.ParseFromArray(data, length)) {
    handlers_.failed(sub->agent, "", "unparseable");
    return;
  }
  BusDelivery delivery{sub->agent, &sub->envelope, reply != nullptr ? reply : ""};
  handlers_.deliver(delivery);
}

absl::Status NatsTransport::Publish(int from, const std::string& subject, const char* reply,
                                    const v1::Envelope& envelope) {
  Agent& a = *agents_[from];
  absl::MutexLock lock(&a.send_mu);
  envelope.SerializeToString(&a.scratch);
  // Counted before it leaves: its answer may complete the message (and the phase may read
  // the count) before the publish call returns.
  wire_messages_.fetch_add(1, std::memory_order_relaxed);
  const natsStatus s =
      reply == nullptr
          ? natsConnection_Publish(a.connection, subject.c_str(), a.scratch.data(),
                                   static_cast<int>(a.scratch.size()))
          : natsConnection_PublishRequest(a.connection, subject.c_str(), reply, a.scratch.data(),
                                          static_cast<int>(a.scratch.size()));
  if (s != NATS_OK) {
    wire_messages_.fetch_sub(1, std::memory_order_relaxed);
    return NatsError(s, "publish");
  }
  return absl::OkStatus();
}

absl::Status NatsTransport::Send(int from, const v1::Envelope& envelope) {
  if (envelope.recipient().target_case() == v1::Address::kTopic) {
    return Publish(from, TopicSubject(envelope.recipient().topic()), nullptr, envelope);
  }
  return Publish(from, AgentSubject(envelope.recipient().agent_id()),
                 envelope.expects_reply() ? agents_[from]->inbox.c_str() : nullptr, envelope);
}

absl::Status NatsTransport::Reply(int from, const BusDelivery& request, const v1::Envelope& reply) {
  if (request.reply_to.empty()) return absl::FailedPreconditionError("no reply subject");
  return Publish(from, request.reply_to, nullptr, reply);
}

void NatsTransport::Close() {
  for (auto& a : agents_) {
    // Drain: once it completes no callback for the subscription runs any more, so its
    // closure may go.
    for (auto& s : a->subscriptions) {
      if (s->sub != nullptr && natsSubscription_Drain(s->sub) == NATS_OK) {
        natsSubscription_WaitForDrainCompletion(s->sub, 5000);
      }
    }
    for (auto& s : a->subscriptions) {
      if (s->sub != nullptr) natsSubscription_Destroy(s->sub);
    }
    if (a->connection != nullptr) {
      natsConnection_Close(a->connection);
      natsConnection_Destroy(a->connection);
    }
    if (a->options != nullptr) natsOptions_Destroy(a->options);
  }
  agents_.clear();
}

std::map<std::string, uint64_t> NatsTransport::Counters() const {
  return {{"slow_consumer", slow_consumers_.load()}};
}

}  // namespace latentbus::bench
