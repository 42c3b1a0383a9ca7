#include "a2a/gateway.h"

#include <fnmatch.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <thread>
#include <utility>
#include <vector>

#include "a2a/agent_cards.h"
#include "a2a/bus_links.h"
#include "a2a/json_rpc.h"
#include "a2a/task_json.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/util/time_util.h"
#include "httplib.h"
#include "proto/error_reason.h"
#include "proto/message_class.h"
#include "spdlog/spdlog.h"
#include "telemetry/trace_context.h"

namespace latentbus::a2a {

using nlohmann::json;

namespace {

constexpr size_t kMaxTokenBytes = 4096;
constexpr size_t kMaxTracestateBytes = 512;  // the W3C limit
constexpr char kJson[] = "application/json";

absl::StatusOr<std::pair<std::string, int>> SplitHostPort(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  int port = -1;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("--listen wants host:port, got '", listen, "'"));
  }
  std::string host = listen.substr(0, colon);
  if (absl::StartsWith(host, "[") && absl::EndsWith(host, "]")) {
    host = host.substr(1, host.size() - 2);
  }
  return std::make_pair(host.empty() ? std::string("0.0.0.0") : host, port);
}

void SendJson(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), kJson);
}

// The token of an "Authorization: Bearer <token>" header ("" when absent); false when the
// header is there but is not a bearer token of a sane size. The scheme is matched without
// regard to case and the token trimmed, as the broker reads its authorization metadata.
bool BearerToken(const httplib::Request& req, std::string* token) {
  token->clear();
  if (!req.has_header("Authorization")) return true;
  const std::string value = req.get_header_value("Authorization");
  constexpr absl::string_view kBearer = "bearer ";
  absl::string_view v = value;
  if (v.size() <= kBearer.size() || !absl::EqualsIgnoreCase(v.substr(0, kBearer.size()), kBearer)) {
    return false;
  }
  v = absl::StripAsciiWhitespace(v.substr(kBearer.size()));
  if (v.empty() || v.size() > kMaxTokenBytes) return false;
  *token = std::string(v);
  return true;
}

}  // namespace

struct Gateway::Impl {
  GatewayOptions options;
  CardSettings cards;
  TaskStore tasks;
  BusLinks links;
  std::shared_ptr<BusLink> own;  // the gateway's own client (lists agents)
  httplib::Server server;
  std::thread serving;
  int port = 0;
  std::atomic<bool> stopping{false};

  absl::Mutex agents_mu;
  v1::ListAgentsResponse agents ABSL_GUARDED_BY(agents_mu);
  absl::Time agents_at ABSL_GUARDED_BY(agents_mu) = absl::InfinitePast();

  explicit Impl(GatewayOptions o)
      : options(std::move(o)),
        tasks(options.tasks),
        links(options.bus, options.id_prefix, options.max_links, &tasks) {}

  // ---- cards ----

  bool Hidden(const std::string& agent_id) const {
    for (const std::string& glob : options.hidden_agents) {
      if (fnmatch(glob.c_str(), agent_id.c_str(), 0) == 0) return true;
    }
    return false;
  }

  // The broker's agents, at most `cards_refresh` old; the gateway's own clients left out.
  absl::StatusOr<v1::ListAgentsResponse> Agents() {
    absl::MutexLock lock(&agents_mu);
    if (absl::Now() - agents_at >= options.cards_refresh) {
      absl::StatusOr<v1::ListAgentsResponse> fresh = own->client().ListAgents(absl::Seconds(5));
      if (!fresh.ok()) return fresh.status();
      agents.Clear();
      for (v1::AgentInfo& a : *fresh->mutable_agents()) {
        if (!Hidden(a.agent_id())) *agents.add_agents() = std::move(a);
      }
      agents_at = absl::Now();
    }
    return agents;
  }

  static std::map<std::string, int> Topics(const v1::ListAgentsResponse& agents) {
    std::map<std::string, int> topics;
    for (const v1::AgentInfo& a : agents.agents()) {
      for (const std::string& t : a.topics()) ++topics[t];
    }
    return topics;
  }

  void ServeCards(httplib::Response& res) {
    absl::StatusOr<v1::ListAgentsResponse> agents = Agents();
    if (!agents.ok()) return SendJson(res, 503, {{"error", wire::Describe(agents.status())}});
    json out = {{"agents", json::array()}, {"topics", json::array()}};
    for (const v1::AgentInfo& a : agents->agents()) out["agents"].push_back(AgentCard(a, cards));
    for (const auto& [topic, n] : Topics(*agents))
      out["topics"].push_back(TopicCard(topic, n, cards));
    SendJson(res, 200, out);
  }

  void ServeCard(const std::string& target, bool topic, httplib::Response& res) {
    absl::StatusOr<v1::ListAgentsResponse> agents = Agents();
    if (!agents.ok()) return SendJson(res, 503, {{"error", wire::Describe(agents.status())}});
    if (topic) {
      const std::map<std::string, int> topics = Topics(*agents);
      auto it = topics.find(target);
      if (it != topics.end()) return SendJson(res, 200, TopicCard(target, it->second, cards));
    } else {
      for (const v1::AgentInfo& a : agents->agents()) {
        if (a.agent_id() == target) return SendJson(res, 200, AgentCard(a, cards));
      }
    }
    SendJson(res, 404,
             {{"error", absl::StrCat("no ", topic ? "topic with subscribers" : "agent", " '",
                                     target, "' on the bus; GET /cards lists them")}});
  }

  // ---- JSON-RPC ----

  struct Call {
    RpcRequest request;
    std::shared_ptr<BusLink> link;
    std::string target;
    bool topic = false;
    std::string traceparent;  // the caller's W3C trace context, when valid
    std::string tracestate;
  };

  // Sends the task's message; a refusal ends the task FAILED (the caller reads why), except
  // for the principal's lack of rights, which is the call's error.
  absl::Status SendTask(const Call& call, const SendParams& params, std::string* task_id) {
    absl::StatusOr<v1::MessageClass> message_class = wire::ParseMessageClass(params.message_class);
    if (!message_class.ok()) return message_class.status();
    absl::Duration timeout = options.default_timeout;
    if (params.timeout_seconds) timeout = absl::Seconds(*params.timeout_seconds);
    timeout = std::min(timeout, options.max_timeout);

    Task task;
    task.id = agent::NewMessageId();
    task.principal = call.link->principal();
    task.context_id = params.context_id.empty() ? agent::NewMessageId() : params.context_id;
    task.target = call.target;
    task.to_topic = call.topic;
    task.request_json = params.message.dump();
    task.deadline = absl::Now() + timeout;
    task.expected_replies = call.topic ? 0 : 1;
    *task_id = task.id;

    v1::Envelope e;
    e.set_message_id(task.id);
    if (call.topic) {
      e.mutable_recipient()->set_topic(call.target);
    } else {
      e.mutable_recipient()->set_agent_id(call.target);
    }
    e.set_message_class(*message_class);
    e.set_expects_reply(true);
    *e.mutable_deadline() =
        google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(task.deadline));
    e.set_text(params.text);
    auto& meta = *e.mutable_metadata();
    meta["a2a.taskId"] = task.id;
    meta["a2a.contextId"] = task.context_id;
    if (!params.message_id.empty()) meta["a2a.messageId"] = params.message_id;
    if (!params.instruction.empty()) meta["instruction"] = params.instruction;
    // The caller's trace goes on over the bus; without one, the bus client starts it.
    e.set_traceparent(call.traceparent);
    e.set_tracestate(call.tracestate);

    if (absl::Status s = tasks.Create(std::move(task)); !s.ok()) return s;
    absl::StatusOr<v1::SendResult> sent = call.link->client().Send(std::move(e), timeout);
    if (!sent.ok()) {
      const absl::StatusCode code = sent.status().code();
      tasks.Fail(*task_id,
                 absl::StrCat("the bus refused the message: ", wire::Describe(sent.status())));
      if (code == absl::StatusCode::kPermissionDenied ||
          code == absl::StatusCode::kUnauthenticated) {
        return sent.status();
      }
      return absl::OkStatus();
    }
    if (call.topic) tasks.SetExpectedReplies(*task_id, sent->recipients_size());
    return absl::OkStatus();
  }

  // Waits for the task to end (SendMessage without returnImmediately).
  absl::StatusOr<Task> AwaitEnd(const std::string& principal, const std::string& id) {
    size_t seen = 0;
    while (true) {
      absl::StatusOr<Task> t =
          tasks.WaitForEvents(principal, id, seen, absl::Now() + absl::Seconds(1));
      if (!t.ok() || IsTerminal(t->state) || stopping) return t;
      seen = t->events.size();
    }
  }

  // Streams the task as server-sent events until it ends or the caller goes away: first the
  // task (`from_start`: as created, then every event; else as it is now, then what follows).
  void StreamTask(const Call& call, const std::string& id, bool from_start,
                  httplib::Response& res) {
    const json rpc_id = call.request.id;
    const std::string principal = call.link->principal();
    res.set_header("Cache-Control", "no-store");
    res.set_chunked_content_provider("text/event-stream", [this, rpc_id, principal, id, from_start](
                                                              size_t, httplib::DataSink& sink) {
      auto write = [&](const json& result) {
        const std::string event =
            absl::StrCat("data: ", ResultObject(rpc_id, result).dump(), "\n\n");
        return sink.write(event.data(), event.size());
      };
      absl::StatusOr<Task> t = tasks.Get(principal, id);
      size_t seen = 0;
      if (t.ok() && from_start) {
        // The task as it was created; every reply and status change follows as an event.
        Task created = *t;
        created.state = TaskState::kWorking;
        created.status_text.clear();
        created.replies.clear();
        seen = 1;
        if (!write({{"task", TaskJson(created)}})) t = absl::CancelledError("gone");
      } else if (t.ok()) {
        seen = t->events.size();
        if (!write({{"task", TaskJson(*t)}})) t = absl::CancelledError("gone");
      }
      if (t.ok()) {
        while (!stopping) {
          bool open = true;
          for (; seen < t->events.size() && open; ++seen) {
            open = write(StreamEventJson(*t, t->events[seen]));
          }
          if (!open || IsTerminal(t->state)) break;
          t = tasks.WaitForEvents(principal, id, seen, absl::Now() + absl::Seconds(1));
          if (!t.ok()) break;
        }
      }
      sink.done();
      return true;
    });
  }

  void Answer(const json& id, const RpcError& error, httplib::Response& res, int http = 200) {
    SendJson(res, http, ErrorObject(id, error));
  }

  void AnswerBusError(const json& id, const absl::Status& s, httplib::Response& res) {
    RpcError e = ErrorFromStatus(s);
    int http = 200;
    if (s.code() == absl::StatusCode::kUnauthenticated) {
      http = 401;
      res.set_header("WWW-Authenticate", "Bearer");
    } else if (s.code() == absl::StatusCode::kPermissionDenied) {
      http = 403;
    } else if (s.code() == absl::StatusCode::kUnavailable) {
      http = 503;
    }
    if (http != 200) e.code = kInternalError;
    Answer(id, e, res, http);
  }

  void HandleRpc(const httplib::Request& req, httplib::Response& res, std::string target,
                 bool topic) {
    RpcError error;
    json id;
    std::optional<RpcRequest> request = ParseRequest(req.body, &error, &id);
    if (!request) return Answer(id, error, res);
    const std::string version =
        req.has_header("A2A-Version") ? req.get_header_value("A2A-Version") : "";
    if (!VersionSupported(version)) {
      return Answer(
          id,
          {kVersionNotSupported,
           absl::StrCat("this gateway speaks A2A protocol 1.0; the request named ",
                        version.empty() ? "none (which means 0.3)" : absl::CHexEscape(version)),
           "VERSION_NOT_SUPPORTED"},
          res);
    }
    std::string token;
    if (!BearerToken(req, &token) || (cards.bearer_required && token.empty())) {
      return AnswerBusError(
          id,
          absl::UnauthenticatedError("an Authorization: Bearer <broker token> header is required"),
          res);
    }
    absl::StatusOr<std::shared_ptr<BusLink>> link = links.Get(token);
    if (!link.ok()) return AnswerBusError(id, link.status(), res);
    Call call{*std::move(request), *std::move(link), std::move(target), topic, "", ""};
    if (const std::string tp = req.get_header_value("traceparent");
        telemetry::ParseTraceparent(tp).has_value()) {
      call.traceparent = tp;
      call.tracestate = req.get_header_value("tracestate").substr(0, kMaxTracestateBytes);
    }
    const std::string& method = call.request.method;
    const json& params = call.request.params;

    if (method == "SendMessage" || method == "SendStreamingMessage") {
      std::optional<SendParams> send = ParseSendParams(params, &error);
      if (!send) return Answer(id, error, res);
      std::string task_id;
      if (absl::Status s = SendTask(call, *send, &task_id); !s.ok()) {
        return AnswerBusError(id, s, res);
      }
      if (method == "SendStreamingMessage") return StreamTask(call, task_id, true, res);
      absl::StatusOr<Task> t = send->return_immediately ? tasks.Get(call.link->principal(), task_id)
                                                        : AwaitEnd(call.link->principal(), task_id);
      if (!t.ok()) return AnswerBusError(id, t.status(), res);
      return SendJson(res, 200, ResultObject(id, {{"task", TaskJson(*t, send->history_length)}}));
    }
    if (method == "GetTask" || method == "CancelTask" || method == "SubscribeToTask") {
      auto task_id = params.find("id");
      if (task_id == params.end() || !task_id->is_string()) {
        return Answer(id, {kInvalidParams, "params.id (the task id) is required", "INVALID_PARAMS"},
                      res);
      }
      std::optional<int> history;
      if (auto h = params.find("historyLength"); h != params.end() && h->is_number_integer()) {
        history = h->get<int>();
      }
      absl::StatusOr<Task> t = method == "CancelTask"
                                   ? tasks.Cancel(call.link->principal(), *task_id)
                                   : tasks.Get(call.link->principal(), *task_id);
      if (!t.ok()) return Answer(id, ErrorFromStatus(t.status()), res);
      if (method != "SubscribeToTask")
        return SendJson(res, 200, ResultObject(id, TaskJson(*t, history)));
      if (IsTerminal(t->state)) {
        return Answer(
            id, {kUnsupportedOperation, "the task has ended: GetTask returns it", "TASK_ENDED"},
            res);
      }
      return StreamTask(call, *task_id, false, res);
    }
    if (absl::StrContains(method, "PushNotificationConfig")) {
      return Answer(id,
                    {kPushNotificationNotSupported,
                     "push notifications are not supported: stream or poll GetTask", ""},
                    res);
    }
    if (method == "GetExtendedAgentCard") {
      return Answer(
          id, {kExtendedAgentCardNotConfigured, "no extended card: the public card is all", ""},
          res);
    }
    if (method == "ListTasks") {
      return Answer(id, {kUnsupportedOperation, "ListTasks is not supported", ""}, res);
    }
    Answer(id, {kMethodNotFound, absl::StrCat("no method '", absl::CHexEscape(method), "'"), ""},
           res);
  }

  void Route() {
    server.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
      const bool up = own->client().status().ok() && !own->client().closed();
      res.status = up ? 200 : 503;
      res.set_content(up ? "ok\n" : "the gateway's bus client is down\n", "text/plain");
    });
    server.Get("/cards",
               [this](const httplib::Request&, httplib::Response& res) { ServeCards(res); });
    server.Get(R"(/(agents|topics)/([^/]+)/\.well-known/agent-card\.json)",
               [this](const httplib::Request& req, httplib::Response& res) {
                 ServeCard(req.matches[2], req.matches[1] == "topics", res);
               });
    server.Post(R"(/(agents|topics)/([^/]+))",
                [this](const httplib::Request& req, httplib::Response& res) {
                  HandleRpc(req, res, req.matches[2], req.matches[1] == "topics");
                });
    server.Get("/.well-known/agent-card.json", [](const httplib::Request&, httplib::Response& res) {
      SendJson(res, 404,
               {{"error",
                 "this gateway serves a card per agent and per topic: GET /cards lists "
                 "them, each at <url>/.well-known/agent-card.json"}});
    });
  }
};

Gateway::Gateway(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Gateway::~Gateway() { Stop(); }

absl::StatusOr<std::unique_ptr<Gateway>> Gateway::Start(GatewayOptions options) {
  absl::StatusOr<std::pair<std::string, int>> host_port = SplitHostPort(options.listen);
  if (!host_port.ok()) return host_port.status();
  auto impl = std::make_unique<Impl>(options);
  absl::StatusOr<std::shared_ptr<BusLink>> own = impl->links.Get(options.bus.token);
  if (!own.ok()) {
    if (own.status().code() == absl::StatusCode::kUnauthenticated && options.bus.token.empty()) {
      return absl::UnauthenticatedError(
          "the broker requires tokens: give the gateway one (--token-file) whose principal may "
          "list agents (admin) and act as its agents (agents: [\"" +
          options.id_prefix + "-*\"])");
    }
    return own.status();
  }
  impl->own = *std::move(own);
  if (absl::StatusOr<v1::ListAgentsResponse> probe =
          impl->own->client().ListAgents(absl::Seconds(5));
      !probe.ok()) {
    return absl::Status(probe.status().code(),
                        absl::StrCat("the gateway's token may not list agents (it needs an admin "
                                     "principal): ",
                                     probe.status().message()));
  }
  // Whether callers need tokens: the broker accepted the gateway without one, or it refuses
  // a client without one (a broker without tokens ignores the one the gateway was given).
  impl->cards.bearer_required = false;
  if (!options.bus.token.empty()) {
    absl::StatusOr<std::shared_ptr<BusLink>> anonymous = impl->links.Get("");
    if (!anonymous.ok() && anonymous.status().code() != absl::StatusCode::kUnauthenticated) {
      return anonymous.status();
    }
    impl->cards.bearer_required = !anonymous.ok();
  }
  impl->cards.version = options.version;
  const size_t threads = std::max<size_t>(options.http_threads, 2);
  impl->server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  impl->server.set_payload_max_length(options.max_request_bytes);
  impl->server.set_read_timeout(10, 0);
  impl->server.set_write_timeout(10, 0);
  impl->Route();
  const auto& [host, port] = *host_port;
  impl->port = port == 0 ? impl->server.bind_to_any_port(host)
                         : (impl->server.bind_to_port(host, port) ? port : -1);
  if (impl->port <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen,
                                               " (in use, or not an address of this host)"));
  }
  impl->cards.public_url =
      options.public_url.empty()
          ? absl::StrCat("http://", host == "0.0.0.0" ? "127.0.0.1" : host, ":", impl->port)
          : std::string(absl::StripSuffix(options.public_url, "/"));
  Impl* raw = impl.get();
  impl->serving = std::thread([raw] { raw->server.listen_after_bind(); });
  // Bound already: connections queue in the backlog until the loop takes them.
  return std::unique_ptr<Gateway>(new Gateway(std::move(impl)));
}

int Gateway::port() const { return impl_->port; }

std::string Gateway::url() const { return impl_->cards.public_url; }

void Gateway::Stop() {
  if (impl_->stopping.exchange(true)) return;
  impl_->server.stop();
  if (impl_->serving.joinable()) impl_->serving.join();
  impl_->own.reset();
  impl_->links.Close();
}

}  // namespace latentbus::a2a
