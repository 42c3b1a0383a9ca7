#include "broker/router.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "broker/errors.h"
#include "broker/send_trace.h"
#include "broker/validation.h"
#include "codec/packet_proto.h"
#include "google/protobuf/util/time_util.h"
#include "spdlog/spdlog.h"

namespace latentbus::broker {

absl::Status RateLimitedError(const std::string& rate_key, double rate_per_second, double burst,
                              absl::string_view what) {
  return BrokerError(v1::RATE_LIMITED, absl::StrCat(rate_key, " exceeds its rate of ", what, ": ",
                                                    rate_per_second, "/s (burst ", burst, ")"));
}
namespace {

absl::Time FromTimestamp(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

v1::RecipientOutcome MakeOutcome(const std::string& agent_id, const Decision& d) {
  v1::RecipientOutcome out;
  out.set_agent_id(agent_id);
  out.set_form(d.form);
  out.set_reason(d.reason);
  return out;
}

}  // namespace

// Collects per-recipient outcomes; the last one calls `done`.
struct Router::Tracker {
  // The recipients that failed for one reason, and the last detail given.
  struct Failures {
    std::vector<std::string> agents;
    std::string detail;
  };
  absl::Mutex mu;
  size_t remaining ABSL_GUARDED_BY(mu) = 0;
  SendOutcome outcome ABSL_GUARDED_BY(mu);
  // By reason: wire::IsPerRecipientReason's, INTERNAL standing for every other.
  std::map<v1::ErrorReason, Failures> failures ABSL_GUARDED_BY(mu);
  Done done;
};

Router::Router(const LimitsConfig& limits, Components components)
    : limits_(limits), c_(components) {}

void Router::Refuse(const std::string& message_id, absl::Status status,
                    std::vector<std::string> agents, const Done& done) {
  c_.metrics->Increment("latentbus_rejects_total", {{"reason", ReasonName(ReasonOf(status))}});
  SendOutcome outcome;
  outcome.message_id = message_id;
  outcome.refused = std::move(status);
  outcome.refused_agents = std::move(agents);
  done(std::move(outcome));
}

absl::StatusOr<std::vector<AgentRecord>> Router::Resolve(const v1::Address& address,
                                                         const std::string& sender_id,
                                                         const Principal& principal,
                                                         bool reply) const {
  std::vector<AgentRecord> out;
  if (address.target_case() == v1::Address::kAgentId) {
    if (!reply && !principal.MaySendTo(address.agent_id())) {
      return BrokerError(v1::PERMISSION_DENIED,
                         absl::StrCat("token '", principal.name, "' may not send to agent '",
                                      address.agent_id(), "'"));
    }
    // An absent agent (disconnected within the retention) is a recipient too: its
    // messages wait in its queue for its next stream.
    std::optional<AgentRecord> agent = c_.registry->FindRecipient(address.agent_id());
    if (!agent) {
      return BrokerError(v1::NO_ROUTE, absl::StrCat("no agent '", address.agent_id(), "'"));
    }
    out.push_back(*std::move(agent));
    return out;
  }
  if (address.target_case() != v1::Address::kTopic) {
    return BrokerError(v1::INVALID_ARGUMENT, "no recipient");
  }
  if (!principal.MayPublish(address.topic())) {
    return BrokerError(
        v1::PERMISSION_DENIED,
        absl::StrCat("token '", principal.name, "' may not publish to '", address.topic(), "'"));
  }
  for (AgentRecord& a : c_.registry->Subscribers(address.topic())) {
    if (a.agent_id != sender_id) out.push_back(std::move(a));
  }
  if (out.empty()) {
    return BrokerError(v1::NO_ROUTE,
                       absl::StrCat("topic '", address.topic(), "' has no subscriber"));
  }
  return out;
}

void Router::ErasePending(const RequestKey& key) {
  pending_.erase(key);
  auto it = requesters_by_id_.find(key.second);
  if (it == requesters_by_id_.end()) return;
  std::vector<std::string>& requesters = it->second;
  requesters.erase(std::remove(requesters.begin(), requesters.end(), key.first), requesters.end());
  if (requesters.empty()) requesters_by_id_.erase(it);
}

void Router::RetireAnswered(const RequestKey& key) {
  absl::MutexLock lock(&mu_);
  auto it = pending_.find(key);
  if (it == pending_.end()) return;  // a second answer, or its deadline came first
  // With one responder the answer shows the request reached it, so its deadline has
  // nothing left to do: cancelled, so that answered requests hold no memory until then
  // (an hour by default). A topic request's other copies still expire then.
  if (it->second.responders.size() == 1) c_.timer->Cancel(it->second.deadline);
  ErasePending(key);  // a second answer finds nothing pending
}

absl::Status Router::ResolveReply(const std::string& sender_id, v1::Envelope* envelope,
                                  std::optional<RequestKey>* answers) {
  const std::string& id = envelope->correlation_id();
  auto asked = [&sender_id](const PendingRequest& p) {
    return std::find(p.responders.begin(), p.responders.end(), sender_id) != p.responders.end();
  };
  absl::MutexLock lock(&mu_);
  switch (envelope->recipient().target_case()) {
    case v1::Address::kAgentId: {
      RequestKey key{envelope->recipient().agent_id(), id};
      auto it = pending_.find(key);
      if (it == pending_.end()) return absl::OkStatus();  // not a pending request's reply
      if (!asked(it->second)) {
        return BrokerError(v1::PERMISSION_DENIED,
                           absl::StrCat("request '", id, "' of ", key.first, " was not sent to ",
                                        sender_id, "; only its recipients may answer it"));
      }
      *answers = std::move(key);
      return absl::OkStatus();
    }
    case v1::Address::TARGET_NOT_SET: {
      std::vector<std::string> matches;
      if (auto it = requesters_by_id_.find(id); it != requesters_by_id_.end()) {
        for (const std::string& requester : it->second) {
          auto p = pending_.find(RequestKey{requester, id});
          if (p != pending_.end() && asked(p->second)) matches.push_back(requester);
        }
      }
      if (matches.empty()) {
        return BrokerError(v1::NO_ROUTE, absl::StrCat("no pending request '", id, "' to ",
                                                      sender_id, " to reply to"));
      }
      if (matches.size() > 1) {
        return BrokerError(v1::INVALID_ARGUMENT,
                           absl::StrCat(matches.size(), " agents sent request '", id, "' to ",
                                        sender_id, "; name the recipient of the reply"));
      }
      envelope->mutable_recipient()->set_agent_id(matches[0]);
      *answers = RequestKey{matches[0], id};
      return absl::OkStatus();
    }
    default:
      return absl::OkStatus();  // a topic message that carries a correlation id
  }
}

void Router::Send(const SendContext& context, v1::Envelope envelope, Done done) {
  const absl::Time now = absl::Now();
  const std::string message_id = envelope.message_id();
  std::shared_ptr<SendTrace> trace = SendTrace::Start(c_.tracer, context.sender_id, &envelope, now);
  if (trace) done = SendTrace::Wrap(trace, std::move(done));
  if (draining()) {
    return Refuse(message_id, BrokerError(v1::DRAINING, "the broker is draining"), {}, done);
  }
  envelope.set_sender_id(context.sender_id);
  envelope.clear_delivered_form();
  envelope.clear_delivery_attempt();
  if (absl::Status s = ValidateEnvelope(envelope, limits_.max_message_bytes); !s.ok()) {
    return Refuse(message_id, s, {}, done);
  }
  if (const std::string rate_key = context.RateKey(); !c_.rate_limiter->Allow(rate_key, now)) {
    return Refuse(message_id,
                  RateLimitedError(rate_key, limits_.rate_per_second, limits_.rate_burst), {},
                  done);
  }
  absl::Time deadline = absl::InfiniteFuture();
  const absl::Time furthest = now + absl::Seconds(limits_.max_deadline_seconds);
  if (envelope.has_deadline()) {
    deadline = FromTimestamp(envelope.deadline());
    if (deadline <= now) {
      return Refuse(message_id, BrokerError(v1::DEADLINE_EXCEEDED, "deadline already passed"), {},
                    done);
    }
    deadline = std::min(deadline, furthest);
  } else if (envelope.expects_reply()) {
    deadline = furthest;  // a request's state is never kept for good
  }
  std::optional<AgentRecord> sender = c_.registry->Find(context.sender_id);
  std::shared_ptr<const AcceptedLatent> latent;
  if (envelope.has_latent()) {
    if (!sender) {
      return Refuse(message_id,
                    BrokerError(v1::UNKNOWN_MODEL, absl::StrCat("sender ", context.sender_id,
                                                                " has no registered model; a "
                                                                "latent needs one")),
                    {}, done);
    }
    if (sender->model->model_id().empty()) {
      return Refuse(
          message_id,
          BrokerError(v1::UNKNOWN_MODEL, absl::StrCat("sender ", context.sender_id,
                                                      " registered without a model (text only); a "
                                                      "latent needs one")),
          {}, done);
    }
    absl::StatusOr<AcceptedLatent> validated = ValidateLatent(envelope.latent(), *sender->model);
    if (!validated.ok()) return Refuse(message_id, validated.status(), {}, done);
    latent = std::make_shared<const AcceptedLatent>(*std::move(validated));
  }
  if (trace) trace->Validated();
  std::optional<RequestKey> answers;
  if (!envelope.correlation_id().empty()) {
    if (absl::Status s = ResolveReply(context.sender_id, &envelope, &answers); !s.ok()) {
      return Refuse(message_id, std::move(s), {}, done);
    }
  }
  if (envelope.recipient().target_case() == v1::Address::TARGET_NOT_SET) {
    return Refuse(message_id, BrokerError(v1::NO_ROUTE, "no recipient and no correlation id"), {},
                  done);
  }
  absl::StatusOr<std::vector<AgentRecord>> recipients =
      Resolve(envelope.recipient(), context.sender_id, *context.principal, answers.has_value());
  if (!recipients.ok()) return Refuse(message_id, recipients.status(), {}, done);

  const bool has_text = !envelope.text().empty();
  const bool has_latent = latent != nullptr;
  std::vector<Target> targets;
  std::vector<std::string> need_text;
  for (AgentRecord& r : *recipients) {
    Decision d = c_.policy->Decide(envelope.message_class(), sender ? sender->model.get() : nullptr,
                                   *r.model, has_text, has_latent);
    if (d.needs_text) need_text.push_back(r.agent_id);
    targets.push_back(Target{std::move(r), std::move(d)});
  }
  if (!need_text.empty()) {
    // The status first: an argument list that both reads and moves need_text leaves its
    // order to the compiler (the detail once named nobody).
    absl::Status status = BrokerError(
        v1::NEEDS_TEXT, absl::StrCat("the policy delivers text to ", absl::StrJoin(need_text, ", "),
                                     "; resend with text and the same message_id"));
    return Refuse(message_id, std::move(status), std::move(need_text), done);
  }

  // Accepted: from here on every recipient gets an outcome.
  if (trace) trace->Routed(targets.size());
  const telemetry::SpanContext trace_context = trace ? trace->context() : telemetry::SpanContext{};
  c_.metrics->Increment("latentbus_messages_total",
                        {{"class", MessageClassName(envelope.message_class())},
                         {"encoding", has_latent ? codec::EncodingName(latent->header.encoding)
                                                 : std::string("text")}});
  if (answers.has_value()) {
    // Retired once the reply is queued for the requester: a reply refused on the way
    // (QUEUE_FULL, a failed translation) leaves the request pending, so the responder
    // can resend it and the deadline still tells the requester if none arrives.
    done = [this, key = *answers, done = std::move(done)](SendOutcome outcome) {
      if (!outcome.accepted.empty()) RetireAnswered(key);
      done(std::move(outcome));
    };
  }
  if (envelope.expects_reply()) {
    PendingRequest p;
    for (const Target& t : targets) p.responders.push_back(t.agent.agent_id);
    absl::MutexLock lock(&mu_);
    auto [it, inserted] = pending_.try_emplace(RequestKey{context.sender_id, message_id});
    // A resend of a pending request (an SDK writes unanswered requests again after a
    // reconnect) replaces it, deadline included.
    if (!inserted) c_.timer->Cancel(it->second.deadline);
    it->second = std::move(p);
    if (inserted) requesters_by_id_[message_id].push_back(context.sender_id);
  }
  if (deadline != absl::InfiniteFuture()) {
    std::vector<std::string> ids;
    for (const Target& t : targets) ids.push_back(t.agent.agent_id);
    const Timer::Handle handle = c_.timer->Schedule(
        deadline,
        [this, sender_id = context.sender_id, message_id, ids = std::move(ids),
         reply = envelope.expects_reply()] { OnDeadline(sender_id, message_id, ids, reply); });
    if (envelope.expects_reply()) {
      // After the request went into pending_ (the deadline must find it there); an
      // answer that came in between leaves the callback to find nothing.
      absl::MutexLock lock(&mu_);
      auto it = pending_.find(RequestKey{context.sender_id, message_id});
      if (it != pending_.end()) it->second.deadline = handle;
    }
  }

  auto tracker = std::make_shared<Tracker>();
  tracker->done = std::move(done);
  {
    absl::MutexLock lock(&tracker->mu);
    tracker->remaining = targets.size();
    tracker->outcome.message_id = message_id;
  }
  envelope.clear_latent();
  std::shared_ptr<const v1::Envelope> text_form;
  if (has_text) {
    auto text = std::make_shared<v1::Envelope>(envelope);
    text->set_delivered_form(v1::PAYLOAD_FORM_TEXT);
    text_form = std::move(text);
  }
  auto latent_base = std::make_shared<v1::Envelope>(std::move(envelope));
  latent_base->clear_text();
  latent_base->set_delivered_form(v1::PAYLOAD_FORM_LATENT);

  // Latent receivers that share a bridge, a model and an encoding get the same packet:
  // one translation each group (a topic's subscribers on one model cost one). One group's
  // translation may run on this thread (TranslationPool::Submit); several go to the
  // workers, which translate them in parallel.
  struct Recipient {
    std::string agent_id;
    Decision decision;
  };
  struct Group {
    std::shared_ptr<const Bridge> bridge;
    TranslationTarget target;
    std::vector<Recipient> recipients;
  };
  std::vector<Group> groups;
  for (const Target& t : targets) {
    if (t.decision.form == v1::PAYLOAD_FORM_TEXT) {
      if (has_latent)
        c_.metrics->Increment("latentbus_fallbacks_total", {{"reason", t.decision.reason}});
      absl::Status s =
          c_.delivery->Enqueue(t.agent.agent_id, QueuedMessage{text_form, now, trace_context});
      Finish(tracker, t.agent.agent_id, t.decision, s);
      continue;
    }
    TranslationTarget target{ModelKey{t.agent.model->model_id(), t.agent.model->fingerprint()},
                             t.agent.model->embedding_size(), codec::Encoding{}};
    absl::StatusOr<codec::Encoding> enc =
        codec::EncodingFromProto(t.agent.model->preferred_encoding());
    if (enc.ok()) target.encoding = *enc;  // validated at registration
    auto same = std::find_if(groups.begin(), groups.end(), [&](const Group& g) {
      return g.bridge == t.decision.bridge && g.target == target;
    });
    if (same == groups.end()) {
      same = groups.insert(groups.end(), Group{t.decision.bridge, std::move(target), {}});
    }
    same->recipients.push_back(Recipient{t.agent.agent_id, t.decision});
  }
  for (Group& g : groups) {
    std::shared_ptr<telemetry::Span> translate;
    if (trace) {
      std::vector<absl::string_view> ids;
      for (const Recipient& r : g.recipients) ids.push_back(r.agent_id);
      translate = trace->StartTranslate(absl::StrJoin(ids, ","), g.bridge->info().id,
                                        codec::EncodingName(g.target.encoding));
    }
    auto group_recipients = std::make_shared<const std::vector<Recipient>>(std::move(g.recipients));
    absl::Status submitted = c_.pool->Submit(
        g.bridge, latent, g.target,
        [this, tracker, group_recipients, latent_base, now, translate,
         trace_context](absl::StatusOr<codec::Packet> out) {
          if (!out.ok()) {
            if (translate) translate->SetError(out.status().message());
            for (const Recipient& r : *group_recipients) {
              Finish(tracker, r.agent_id, r.decision,
                     BrokerError(v1::INTERNAL,
                                 absl::StrCat("translation failed: ", out.status().message())));
            }
            return;
          }
          auto env = std::make_shared<v1::Envelope>(*latent_base);
          *env->mutable_latent() = codec::ToProto(*std::move(out));
          if (translate) {
            translate->SetInt("latentbus.latent.bytes",
                              static_cast<int64_t>(env->latent().ByteSizeLong()));
            translate->End();
          }
          // The receiver's space and encoding can make a packet much larger than the one
          // sent (int4 at 576 wide into fp16 at 4096: 18x); one over the limit would
          // fail the recipient's stream on every delivery attempt.
          if (const size_t bytes = env->ByteSizeLong(); bytes > limits_.max_message_bytes) {
            for (const Recipient& r : *group_recipients) {
              Finish(
                  tracker, r.agent_id, r.decision,
                  BrokerError(v1::MESSAGE_TOO_LARGE,
                              absl::StrCat("translated into the receiver's space and encoding, the "
                                           "envelope is ",
                                           bytes, " bytes, over the ", limits_.max_message_bytes,
                                           "-byte limit; send a smaller latent or text")));
            }
            return;
          }
          std::shared_ptr<const v1::Envelope> shared = std::move(env);
          for (const Recipient& r : *group_recipients) {
            Finish(tracker, r.agent_id, r.decision,
                   c_.delivery->Enqueue(r.agent_id, QueuedMessage{shared, now, trace_context}));
          }
        },
        /*may_run_inline=*/groups.size() == 1);
    if (!submitted.ok()) {
      if (translate) translate->SetError(submitted.message());
      for (const Recipient& r : *group_recipients) {
        Finish(tracker, r.agent_id, r.decision,
               BrokerError(v1::QUEUE_FULL, absl::StrCat("translation: ", submitted.message())));
      }
    }
  }
}

void Router::Finish(const std::shared_ptr<Tracker>& tracker, const std::string& agent_id,
                    const Decision& decision, const absl::Status& status) {
  if (status.ok()) {
    // counted at delivery
  } else if (absl::IsAlreadyExists(status)) {
    c_.metrics->Increment("latentbus_duplicates_total");
  } else {
    c_.metrics->Increment("latentbus_rejects_total", {{"reason", ReasonName(ReasonOf(status))}});
  }
  SendOutcome outcome;
  {
    absl::MutexLock lock(&tracker->mu);
    if (status.ok() || absl::IsAlreadyExists(status)) {
      tracker->outcome.accepted.push_back(MakeOutcome(agent_id, decision));
    } else {
      const v1::ErrorReason reason = ReasonOf(status);
      Tracker::Failures& f =
          tracker->failures[wire::IsPerRecipientReason(reason) ? reason : v1::INTERNAL];
      f.agents.push_back(agent_id);
      f.detail = std::string(status.message());
    }
    if (--tracker->remaining != 0) return;
    outcome = std::move(tracker->outcome);
    for (auto& [reason, f] : tracker->failures) {  // in reason order
      std::sort(f.agents.begin(), f.agents.end());
      v1::Error error;
      error.set_reason(reason);
      error.set_detail(f.detail);
      error.set_message_id(outcome.message_id);
      for (const std::string& a : f.agents) error.add_agent_ids(a);
      outcome.errors.push_back(std::move(error));
    }
  }
  std::sort(outcome.accepted.begin(), outcome.accepted.end(),
            [](const v1::RecipientOutcome& a, const v1::RecipientOutcome& b) {
              return a.agent_id() < b.agent_id();
            });
  tracker->done(std::move(outcome));
}

void Router::ReplyDelivered(const std::string& recipient, const v1::Envelope& reply) {
  absl::MutexLock lock(&mu_);
  const RequestKey key{recipient, reply.correlation_id()};
  auto it = pending_.find(key);
  if (it == pending_.end()) return;
  const auto& responders = it->second.responders;
  if (std::find(responders.begin(), responders.end(), reply.sender_id()) == responders.end()) {
    return;
  }
  ErasePending(key);
}

void Router::OnDeadline(const std::string& sender_id, const std::string& message_id,
                        const std::vector<std::string>& recipients, bool expects_reply) {
  std::vector<std::string> expired;
  for (const std::string& r : recipients) {
    if (c_.delivery->Expire(r, sender_id, message_id)) expired.push_back(r);
  }
  bool reply_missing = false;
  if (expects_reply) {
    absl::MutexLock lock(&mu_);
    const RequestKey key{sender_id, message_id};
    if (pending_.contains(key)) {
      reply_missing = true;
      ErasePending(key);
    }
  }
  if (expired.empty() && !reply_missing) return;
  c_.metrics->Increment("latentbus_rejects_total", {{"reason", "DEADLINE_EXCEEDED"}});
  v1::BrokerFrame frame;
  v1::Error* error = frame.mutable_error();
  error->set_reason(v1::DEADLINE_EXCEEDED);
  error->set_message_id(message_id);
  for (const std::string& a : expired) error->add_agent_ids(a);
  error->set_detail(expired.empty() ? "no reply before the deadline"
                                    : absl::StrCat("deadline passed before delivery to ",
                                                   absl::StrJoin(expired, ", ")));
  spdlog::info("deadline exceeded sender={} message_id={} undelivered={} reply_missing={}",
               sender_id, message_id, expired.size(), reply_missing);
  if (std::optional<AgentRecord> sender = c_.registry->Find(sender_id)) {
    sender->session->Push(std::move(frame));
  } else if (std::optional<RemoteAgent> moved = c_.registry->FindRemote(sender_id);
             moved.has_value() && moved->connected) {
    // The sender is connected to another broker now: the error follows it there.
    c_.delivery->Notify(sender_id, frame);
  }
}

v1::RouteQueryResponse Router::Query(const v1::RouteQueryRequest& request,
                                     const Principal& principal) const {
  v1::RouteQueryResponse response;
  auto fail = [&](const absl::Status& s) {
    *response.mutable_error() = ToErrorProto(s);
    return response;
  };
  std::shared_ptr<const v1::ModelSpec> src;
  std::optional<AgentRecord> sender = c_.registry->Find(request.sender_id());
  if (sender && !sender->model->model_id().empty() &&
      (request.model_id().empty() || request.model_id() == sender->model->model_id())) {
    src = sender->model;
  } else if (!request.model_id().empty()) {
    src = c_.registry->FindModel(request.model_id());
  }
  if (request.has_latent() && !src) {
    return fail(BrokerError(v1::UNKNOWN_MODEL, "no registered agent runs the sender's model"));
  }
  if (!request.has_latent() && !request.has_text()) {
    return fail(BrokerError(v1::INVALID_ARGUMENT, "a send needs text or a latent"));
  }
  absl::StatusOr<std::vector<AgentRecord>> recipients =
      Resolve(request.recipient(), request.sender_id(), principal);
  if (!recipients.ok()) return fail(recipients.status());
  std::vector<std::string> need_text;
  for (const AgentRecord& r : *recipients) {
    Decision d = c_.policy->Decide(request.message_class(), src.get(), *r.model, request.has_text(),
                                   request.has_latent());
    v1::RouteDecision* out = response.add_decisions();
    out->set_agent_id(r.agent_id);
    out->set_form(d.form);
    out->set_reason(d.reason);
    out->set_fidelity(d.fidelity);
    if (d.bridge) out->set_bridge_id(d.bridge->info().id);
    if (d.needs_text) need_text.push_back(r.agent_id);
  }
  if (!need_text.empty()) {
    v1::Error error = ToErrorProto(BrokerError(
        v1::NEEDS_TEXT, absl::StrCat("text needed for ", absl::StrJoin(need_text, ", "))));
    for (const std::string& a : need_text) error.add_agent_ids(a);
    *response.mutable_error() = std::move(error);
  }
  return response;
}

}  // namespace latentbus::broker
