#include "broker/jetstream_directory.h"

#include <nats/nats.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/random/distributions.h"
#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "broker/hex_token.h"
#include "broker/nats_link.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace latentbus::broker {
namespace {

constexpr absl::string_view kKeyPrefix = "a.";

std::string KeyOf(const std::string& agent_id) {
  return absl::StrCat(kKeyPrefix, HexToken(agent_id));
}

}  // namespace

std::string DefaultBrokerName() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  // The random part tells apart two runs of one process id: a restarted container's
  // broker is pid 1 again.
  absl::BitGen random;
  return absl::StrCat(host[0] != '\0' ? host : "broker", "-", getpid(), "-",
                      absl::Hex(absl::Uniform<uint32_t>(random, 0, 1u << 16), absl::kZeroPad4));
}

class JetStreamDirectory::Impl {
 public:
  Impl(Options options, AgentRegistry* registry, Metrics* metrics)
      : options_(std::move(options)), registry_(registry), metrics_(metrics) {}
  ~Impl() { Close(); }

  absl::Status Open();
  void Close();
  // Publishes the local state of `agent_id` (the registry's listener).
  void Publish(const std::string& agent_id);
  void ShuttingDown() {
    if (link_ != nullptr) link_->CloseWhenServersGone();
  }
  const std::string& name() const { return options_.broker_name; }

 private:
  void Watch();
  void Apply(kvEntry* entry);
  // The revision of the last value this broker wrote for `agent_id`; 0 when none.
  uint64_t OwnRevision(const std::string& agent_id);

  Options options_;
  AgentRegistry* const registry_;
  Metrics* const metrics_;  // may be null
  std::unique_ptr<NatsLink> link_;
  jsCtx* js_ = nullptr;  // link_'s
  kvStore* kv_ = nullptr;
  std::thread watcher_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> reconnected_{false};  // KV watchers go silent after one: renew

  // Serializes publications, so that the bucket sees one agent's changes in order.
  absl::Mutex publish_mu_;
  absl::Mutex mu_ ABSL_ACQUIRED_AFTER(publish_mu_);
  // The revision of the last value this broker wrote for each of its agents.
  absl::flat_hash_map<std::string, uint64_t> own_revision_ ABSL_GUARDED_BY(mu_);
};

absl::Status JetStreamDirectory::Impl::Open() {
  absl::StatusOr<std::unique_ptr<NatsLink>> link =
      NatsLink::Connect(options_.servers, options_.broker_name, [this] { reconnected_ = true; });
  if (!link.ok()) return link.status();
  link_ = *std::move(link);
  js_ = link_->jetstream();
  natsStatus s = NATS_OK;
  kvConfig kc;
  kvConfig_Init(&kc);
  kc.Bucket = options_.bucket.c_str();
  kc.History = 1;
  kc.StorageType = js_FileStorage;
  kc.Replicas = options_.replicas;
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  for (;;) {
    s = js_CreateKeyValue(&kv_, js_, &kc);
    if (s == NATS_OK) break;
    if (js_KeyValue(&kv_, js_, options_.bucket.c_str()) == NATS_OK) break;  // exists
    if (absl::Now() > give_up) {
      return NatsFailure(absl::StrCat("creating the directory bucket ", options_.bucket), s);
    }
    absl::SleepFor(absl::Milliseconds(200));  // a cluster still electing its meta leader
  }
  // Agents registered before the directory existed, then every change.
  for (const AgentRecord& a : registry_->List()) Publish(a.agent_id);
  registry_->SetListener([this](const std::string& id) { Publish(id); });
  watcher_ = std::thread([this] { Watch(); });
  spdlog::info("directory: JetStream bucket {} (R{}), this broker is {}", options_.bucket,
               options_.replicas, options_.broker_name);
  return absl::OkStatus();
}

void JetStreamDirectory::Impl::Close() {
  if (registry_ != nullptr) registry_->SetListener(nullptr);
  stopping_ = true;
  // With the servers gone, close now: the watcher's calls return at once.
  if (link_ != nullptr) link_->CloseIfServersGone();
  if (watcher_.joinable()) watcher_.join();
  if (kv_ != nullptr) kvStore_Destroy(kv_);
  kv_ = nullptr;
  link_.reset();
  js_ = nullptr;
}

void JetStreamDirectory::Impl::Publish(const std::string& agent_id) {
  absl::MutexLock publishing(&publish_mu_);
  const std::string key = KeyOf(agent_id);
  std::optional<AgentRecord> local = registry_->FindLocal(agent_id);
  nlohmann::json value = {{"broker", options_.broker_name}};
  if (!local.has_value()) {
    value["released"] = true;
  } else {
    value["connected"] = local->session != nullptr;
    value["model"] = absl::Base64Escape(local->model->SerializeAsString());
    value["topics"] = local->topics;
  }
  const std::string data = value.dump();
  const uint64_t last = OwnRevision(agent_id);
  uint64_t revision = 0;
  if (local.has_value() && local->session != nullptr) {
    // An agent the directory last had on another broker registered here: that broker
    // died or drained, or the agent moved.
    const std::optional<RemoteAgent> elsewhere = registry_->FindRemote(agent_id);
    if (metrics_ != nullptr && elsewhere.has_value() && elsewhere->broker != options_.broker_name) {
      metrics_->Increment("latentbus_agent_failovers_total");
    }
    // A registration here is the newest: it wins whatever the key holds.
    natsStatus s =
        kvStore_Put(&revision, kv_, key.c_str(), data.data(), static_cast<int>(data.size()));
    if (s != NATS_OK) {
      spdlog::warn("directory: publishing {} failed: {}", absl::CHexEscape(agent_id),
                   std::string(NatsFailure("put", s).message()));
      return;
    }
    // The key names this broker now: the other broker's entry is history.
    if (elsewhere.has_value()) registry_->ClearRemote(agent_id);
  } else {
    // Absent or released: only if the key still holds what this broker wrote last; a newer
    // registration elsewhere stays (the update then fails, as it should).
    if (last == 0) return;
    if (kvStore_Update(&revision, kv_, key.c_str(), data.data(), static_cast<int>(data.size()),
                       last) != NATS_OK) {
      return;
    }
  }
  absl::MutexLock lock(&mu_);
  if (local.has_value()) {
    own_revision_[agent_id] = revision;
  } else {
    own_revision_.erase(agent_id);
  }
}

uint64_t JetStreamDirectory::Impl::OwnRevision(const std::string& agent_id) {
  absl::MutexLock lock(&mu_);
  auto it = own_revision_.find(agent_id);
  return it != own_revision_.end() ? it->second : 0;
}

void JetStreamDirectory::Impl::Watch() {
  while (!stopping_) {
    kvWatcher* w = nullptr;
    kvWatchOptions wo;
    kvWatchOptions_Init(&wo);
    if (kvStore_WatchAll(&w, kv_, &wo) != NATS_OK) {
      absl::SleepFor(absl::Milliseconds(500));
      continue;
    }
    reconnected_ = false;
    while (!stopping_ && !reconnected_) {
      kvEntry* e = nullptr;
      natsStatus s = kvWatcher_Next(&e, w, 250);
      if (s == NATS_TIMEOUT) continue;
      if (s != NATS_OK) break;
      if (e == nullptr) continue;  // the values that existed when the watch began are in
      Apply(e);
      kvEntry_Destroy(e);
    }
    kvWatcher_Stop(w);
    kvWatcher_Destroy(w);
  }
}

void JetStreamDirectory::Impl::Apply(kvEntry* entry) {
  const absl::string_view key = kvEntry_Key(entry);
  std::string agent_id;
  if (!absl::StartsWith(key, kKeyPrefix) ||
      !FromHexToken(key.substr(kKeyPrefix.size()), &agent_id)) {
    return;
  }
  const kvOperation op = kvEntry_Operation(entry);
  if (op == kvOp_Delete || op == kvOp_Purge) {
    registry_->ClearRemote(agent_id);
    return;
  }
  const uint64_t revision = kvEntry_Revision(entry);
  const nlohmann::json value = nlohmann::json::parse(
      absl::string_view(static_cast<const char*>(kvEntry_Value(entry)), kvEntry_ValueLen(entry)),
      nullptr, /*allow_exceptions=*/false);
  if (!value.is_object() || !value.contains("broker") || !value["broker"].is_string()) return;
  const std::string broker = value["broker"].get<std::string>();
  if (broker == options_.broker_name) {
    // Our name, but an agent this run neither holds nor wrote: a predecessor of the same
    // name (the process restarted) left it connected. Marked absent, so that no broker
    // routes to a stream that is gone; compare-and-swap, so a newer write stays.
    if (value.value("connected", false) && OwnRevision(agent_id) == 0 &&
        !registry_->FindLocal(agent_id).has_value()) {
      nlohmann::json absent = value;
      absent["connected"] = false;
      const std::string data = absent.dump();
      uint64_t written = 0;
      kvStore_Update(&written, kv_, std::string(key).c_str(), data.data(),
                     static_cast<int>(data.size()), revision);
    }
    return;
  }
  if (value.value("released", false)) {
    registry_->ClearRemote(agent_id);
    return;
  }
  auto model = std::make_shared<v1::ModelSpec>();
  std::string bytes;
  if (!value.contains("model") || !value["model"].is_string() ||
      !absl::Base64Unescape(value["model"].get<std::string>(), &bytes) ||
      !model->ParseFromString(bytes)) {
    spdlog::warn("directory: the entry of {} from {} does not parse; ignored",
                 absl::CHexEscape(agent_id), absl::CHexEscape(broker));
    return;
  }
  RemoteAgent remote;
  remote.model = std::move(model);
  remote.broker = broker;
  remote.connected = value.value("connected", false);
  if (value.contains("topics") && value["topics"].is_array()) {
    for (const auto& t : value["topics"]) {
      if (t.is_string()) remote.topics.push_back(t.get<std::string>());
    }
  }
  if (remote.connected) {
    // Registered again on another broker, after our registration: that one wins.
    std::optional<AgentRecord> local = registry_->FindLocal(agent_id);
    const uint64_t mine = OwnRevision(agent_id);
    if (local.has_value() && local->session != nullptr && revision > mine && mine != 0) {
      spdlog::info("agent replaced agent_id={} by a registration on broker {}",
                   absl::CHexEscape(agent_id), absl::CHexEscape(broker));
      local->session->End(absl::AbortedError(
          absl::StrCat("agent id ", agent_id, " was registered again on broker ", broker)));
      registry_->Unregister(agent_id, local->session.get(), absl::Now());
    }
  }
  registry_->SetRemote(agent_id, std::move(remote));
}

JetStreamDirectory::JetStreamDirectory(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JetStreamDirectory::~JetStreamDirectory() = default;

absl::StatusOr<std::unique_ptr<JetStreamDirectory>> JetStreamDirectory::Create(
    Options options, AgentRegistry* registry, Metrics* metrics) {
  if (options.broker_name.empty()) options.broker_name = DefaultBrokerName();
  auto impl = std::make_unique<Impl>(std::move(options), registry, metrics);
  if (absl::Status s = impl->Open(); !s.ok()) return s;
  return std::unique_ptr<JetStreamDirectory>(new JetStreamDirectory(std::move(impl)));
}

const std::string& JetStreamDirectory::broker_name() const { return impl_->name(); }

void JetStreamDirectory::ShuttingDown() { impl_->ShuttingDown(); }

}  // namespace latentbus::broker
