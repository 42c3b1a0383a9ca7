#include "a2a/bus_links.h"

#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "proto/error_reason.h"
#include "spdlog/spdlog.h"
#include "xxhash.h"

namespace latentbus::a2a {

namespace {

std::string FormName(v1::PayloadForm form) {
  return form == v1::PAYLOAD_FORM_LATENT ? "latent" : "text";
}

}  // namespace

BusLink::BusLink(std::string principal, std::string agent_id)
    : principal_(std::move(principal)), agent_id_(std::move(agent_id)) {}

BusLink::~BusLink() {
  if (client_) client_->Close();
  if (receiver_.joinable()) receiver_.join();
}

BusLinks::BusLinks(agent::ClientOptions base, std::string id_prefix, size_t max_links,
                   TaskStore* tasks)
    : base_(std::move(base)),
      prefix_(std::move(id_prefix)),
      max_links_(max_links == 0 ? 1 : max_links),
      tasks_(tasks) {}

BusLinks::~BusLinks() { Close(); }

std::string BusLinks::PrincipalOf(const std::string& token) {
  if (token.empty()) return "anonymous";
  return absl::StrFormat("%016x", XXH3_64bits(token.data(), token.size()));
}

void BusLinks::EvictIfFull() {
  while (links_.size() >= max_links_) {
    // The least recently used link that only this map holds.
    auto victim = recent_.end();
    for (auto it = recent_.end(); it != recent_.begin();) {
      --it;
      auto link = links_.find(*it);
      if (link != links_.end() && link->second.use_count() == 1) {
        victim = it;
        break;
      }
    }
    if (victim == recent_.end()) return;  // all in use: go over the bound for now
    spdlog::info("a2a: closing the least recently used bus client {}", *victim);
    links_.erase(*victim);
    recent_.erase(victim);
  }
}

absl::StatusOr<std::shared_ptr<BusLink>> BusLinks::Get(const std::string& token, bool retry) {
  const std::string principal = PrincipalOf(token);
  std::shared_ptr<BusLink> link;
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return absl::CancelledError("the gateway is stopping");
    auto it = links_.find(principal);
    if (it == links_.end()) {
      EvictIfFull();
      it = links_
               .emplace(principal,
                        std::make_shared<BusLink>(principal, absl::StrCat(prefix_, "-", principal)))
               .first;
    } else {
      recent_.remove(principal);
    }
    recent_.push_front(principal);
    link = it->second;
  }
  absl::Status connected;
  {
    absl::MutexLock connecting(&link->connect_mu_);
    if (!link->client_) {
      connected = Connect(*link, token);
    } else if (!link->client_->status().ok() || link->client_->closed()) {
      // Ended for good (e.g. its agent id registered elsewhere): start over once.
      connected =
          link->client_->closed() ? absl::CancelledError("closed") : link->client_->status();
    }
  }
  if (connected.ok()) return link;
  {
    absl::MutexLock lock(&mu_);
    auto it = links_.find(principal);
    if (it != links_.end() && it->second == link) {
      links_.erase(it);
      recent_.remove(principal);
    }
  }
  if (link->client_ && retry) return Get(token, /*retry=*/false);
  return connected;
}

absl::Status BusLinks::Connect(BusLink& link, const std::string& token) {
  agent::ClientOptions options = base_;
  options.agent_id = link.agent_id();
  options.token = token;
  options.model.reset();  // text only: replies come as text
  options.topics.clear();
  TaskStore* tasks = tasks_;
  options.on_error = [tasks](const v1::Error& error) {
    if (error.message_id().empty()) return;
    tasks->OnBusError(
        error.message_id(), error.reason() == v1::DEADLINE_EXCEEDED, error.agent_ids_size() > 0,
        absl::StrCat("the bus could not deliver the message: ", wire::ReasonName(error.reason()),
                     ": ", error.detail()));
  };
  absl::StatusOr<std::unique_ptr<agent::Client>> client = agent::Client::Connect(options);
  if (!client.ok()) {
    spdlog::warn("a2a: bus client {} for principal {} not connected: {}", link.agent_id(),
                 link.principal(), wire::Describe(client.status()));
    return client.status();
  }
  link.client_ = *std::move(client);
  link.receiver_ = std::thread([this, &link] { Receive(link); });
  spdlog::info("a2a: bus client {} connected", link.agent_id());
  return absl::OkStatus();
}

void BusLinks::Receive(BusLink& link) {
  const absl::Status ended = link.client_->Serve([&](const v1::Envelope& e) {
    if (e.correlation_id().empty() ||
        !tasks_->AddReply(e.correlation_id(), Reply{e.message_id(), e.sender_id(),
                                                    FormName(e.delivered_form()), e.text()})) {
      spdlog::debug("a2a: {} dropped a message from {} that answers no working task",
                    link.agent_id(), absl::CHexEscape(e.sender_id()));
    }
  });
  if (!ended.ok()) {
    spdlog::warn("a2a: bus client {} ended: {}", link.agent_id(), wire::Describe(ended));
  }
}

void BusLinks::Close() {
  absl::flat_hash_map<std::string, std::shared_ptr<BusLink>> links;
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    links.swap(links_);
    recent_.clear();
  }
  for (auto& [principal, link] : links) {
    absl::MutexLock connecting(&link->connect_mu_);
    if (link->client_) link->client_->Close();
  }
}

}  // namespace latentbus::a2a
