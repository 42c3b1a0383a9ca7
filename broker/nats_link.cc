#include "broker/nats_link.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace latentbus::broker {

absl::Status NatsFailure(absl::string_view what, natsStatus s, jsErrCode jerr) {
  const char* text = nats_GetLastError(nullptr);
  std::string message = absl::StrCat(what, ": ", natsStatus_GetText(s));
  if (jerr != 0) absl::StrAppend(&message, " (JetStream error ", static_cast<int>(jerr), ")");
  if (text != nullptr && *text != '\0') absl::StrAppend(&message, ": ", text);
  if (s == NATS_TIMEOUT || s == NATS_NO_SERVER || s == NATS_CONNECTION_CLOSED ||
      s == NATS_NO_RESPONDERS || s == NATS_NOT_YET_CONNECTED) {
    return absl::UnavailableError(message);
  }
  return absl::InternalError(message);
}

void NatsLink::OnReconnected(natsConnection*, void* closure) {
  auto* link = static_cast<NatsLink*>(closure);
  if (link->on_reconnected_) link->on_reconnected_();
}

absl::StatusOr<std::unique_ptr<NatsLink>> NatsLink::Connect(const std::string& servers,
                                                            const std::string& name,
                                                            std::function<void()> on_reconnected) {
  std::vector<std::string> urls = absl::StrSplit(servers, ',', absl::SkipWhitespace());
  if (urls.empty()) return absl::InvalidArgumentError("no JetStream servers given");
  std::vector<const char*> url_ptrs;
  for (const std::string& u : urls) url_ptrs.push_back(u.c_str());
  std::unique_ptr<NatsLink> link(new NatsLink());
  link->servers_ = servers;
  link->on_reconnected_ = std::move(on_reconnected);
  natsStatus s = natsOptions_Create(&link->options_);
  natsOptions* o = link->options_;
  if (s == NATS_OK)
    s = natsOptions_SetServers(o, url_ptrs.data(), static_cast<int>(url_ptrs.size()));
  if (s == NATS_OK) s = natsOptions_SetName(o, name.c_str());
  if (s == NATS_OK) s = natsOptions_SetSendAsap(o, true);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(o, -1);  // for ever
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(o, 250);
  if (s == NATS_OK) s = natsOptions_SetTimeout(o, 5000);
  if (s == NATS_OK) s = natsOptions_SetReconnectedCB(o, &NatsLink::OnReconnected, link.get());
  if (s != NATS_OK) return NatsFailure("NATS options", s);
  s = natsConnection_Connect(&link->nc_, o);
  if (s != NATS_OK) {
    return absl::UnavailableError(
        absl::StrCat("cannot connect to JetStream at ", servers, ": ", natsStatus_GetText(s)));
  }
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 5000;
  s = natsConnection_JetStream(&link->js_, link->nc_, &jo);
  if (s != NATS_OK) return NatsFailure("JetStream context", s);
  return link;
}

bool NatsLink::CloseOnceDown(const std::function<bool()>& keep_waiting) {
  // A failover (a server restarting) reconnects within a few reconnect waits of 250 ms:
  // give it that long before deciding the servers are gone.
  absl::Time down_since = absl::InfiniteFuture();
  for (;;) {
    if (natsConnection_IsClosed(nc_)) return true;
    const absl::Time now = absl::Now();
    if (natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED) {
      down_since = absl::InfiniteFuture();
    } else if (down_since == absl::InfiniteFuture()) {
      down_since = now;
    } else if (now - down_since >= absl::Milliseconds(600)) {
      natsConnection_Close(nc_);
      return true;
    }
    if (!keep_waiting()) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
}

void NatsLink::CloseWhenServersGone() {
  std::lock_guard<std::mutex> lock(guard_mu_);
  if (guard_.joinable() || nc_ == nullptr) return;
  guard_ = std::thread([this] { CloseOnceDown([this] { return !guard_stop_; }); });
}

bool NatsLink::CloseIfServersGone() {
  if (nc_ == nullptr) return false;
  return CloseOnceDown([this] { return natsConnection_Status(nc_) != NATS_CONN_STATUS_CONNECTED; });
}

NatsLink::~NatsLink() {
  guard_stop_ = true;
  {
    std::lock_guard<std::mutex> lock(guard_mu_);
    if (guard_.joinable()) guard_.join();
  }
  if (nc_ != nullptr && natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED) {
    natsConnection_FlushTimeout(nc_, 1000);
  }
  if (js_ != nullptr) jsCtx_Destroy(js_);
  if (nc_ != nullptr) {
    natsConnection_Close(nc_);
    natsConnection_Destroy(nc_);
  }
  if (options_ != nullptr) natsOptions_Destroy(options_);
}

}  // namespace latentbus::broker
