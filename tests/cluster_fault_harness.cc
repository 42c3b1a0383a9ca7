#include "tests/cluster_fault_harness.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "proto/error_reason.h"

extern char** environ;

namespace latentbus::testing {

BrokerProcess::BrokerProcess(int port, std::string nats_urls, std::string log, int replicas,
                             std::vector<std::string> extra_args)
    : port_(port),
      nats_urls_(std::move(nats_urls)),
      log_(std::move(log)),
      replicas_(replicas),
      extra_args_(std::move(extra_args)) {}

BrokerProcess::~BrokerProcess() {
  Stop(SIGKILL);
  std::filesystem::remove(log_ + ".port");
}

bool BrokerProcess::Start() {
  const std::string port_file = log_ + ".port";
  std::filesystem::remove(port_file);
  std::vector<std::string> args = {LATENTBUS_CLI,
                                   "broker",
                                   "--listen",
                                   absl::StrCat("127.0.0.1:", port_),
                                   "--port-file",
                                   port_file,
                                   "--metrics-listen",
                                   "",
                                   "--rate",
                                   "0",
                                   "--drain-timeout",
                                   "2",
                                   "--cluster",
                                   nats_urls_,
                                   "--cluster-ack-wait",
                                   "2",
                                   "--cluster-replicas",
                                   std::to_string(replicas_)};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return false;
  for (int i = 0; i < 300; ++i) {
    if (std::filesystem::exists(port_file) && std::filesystem::file_size(port_file) > 0) {
      return true;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return false;
}

void BrokerProcess::Stop(int sig) {
  if (pid_ <= 0) return;
  kill(pid_, sig);
  for (int i = 0; i < 300; ++i) {  // a draining broker exits within its drain timeout
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string BrokerProcess::address() const { return absl::StrCat("127.0.0.1:", port_); }

void History::Deliver(agent::Client& client, const v1::Envelope& m) {
  const std::string& id = m.message_id();
  if (acked.count(id) != 0) ++repeats_after_ack;
  if (m.delivery_attempt() <= 1) first_deliveries.emplace_back(m.sender_id(), id);
  ++delivered[id];
  client.Ack(m);
  acked.insert(id);
}

size_t History::ConfirmedCount() const {
  size_t n = 0;
  for (const auto& [sender, ids] : confirmed) n += ids.size();
  return n;
}

size_t History::Lost() const {
  size_t lost = 0;
  for (const auto& [sender, ids] : confirmed) {
    for (const std::string& id : ids) lost += delivered.count(id) == 0 ? 1 : 0;
  }
  return lost;
}

size_t History::Repeats() const {
  size_t repeats = 0;
  for (const auto& [id, n] : delivered) repeats += n > 1 ? n - 1 : 0;
  return repeats;
}

size_t History::OrderViolations() const {
  std::map<std::string, std::map<std::string, size_t>> position;  // sender -> id -> index
  for (const auto& [sender, ids] : confirmed) {
    for (size_t i = 0; i < ids.size(); ++i) position[sender][ids[i]] = i;
  }
  std::map<std::string, size_t> last;  // sender -> position + 1 of its last first delivery
  size_t violations = 0;
  for (const auto& [sender, id] : first_deliveries) {
    auto s = position.find(sender);
    if (s == position.end()) continue;
    auto p = s->second.find(id);
    if (p == s->second.end()) continue;  // never confirmed: no order promised
    if (p->second + 1 < last[sender]) ++violations;
    last[sender] = std::max(last[sender], p->second + 1);
  }
  return violations;
}

void History::Report(const std::string& name) const {
  std::printf(
      "%s: confirmed %zu, delivered %zu distinct, lost %zu, repeats seen %zu (after an ack "
      "%d), order violations %zu\n",
      name.c_str(), ConfirmedCount(), delivered.size(), Lost(), Repeats(), repeats_after_ack,
      OrderViolations());
  std::fflush(stdout);
}

std::unique_ptr<agent::Client> ConnectClient(const std::string& address, const std::string& id,
                                             uint32_t credits) {
  agent::ClientOptions o;
  o.address = address;
  o.agent_id = id;
  o.delivery_credits = credits;
  o.backoff_initial = absl::Milliseconds(50);
  o.backoff_max = absl::Milliseconds(500);
  auto c = agent::Client::Connect(o);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *std::move(c) : nullptr;
}

v1::Envelope To(const std::string& agent, const std::string& id) {
  v1::Envelope e;
  e.set_message_id(id);
  e.mutable_recipient()->set_agent_id(agent);
  e.set_message_class(v1::MESSAGE_CLASS_CONTEXT);
  e.set_text("message " + id);
  return e;
}

void Collect(agent::Client& c, History* h, absl::Duration timeout) {
  const absl::Time end = absl::Now() + timeout;
  while (h->Lost() > 0 && absl::Now() < end) {
    std::optional<v1::Envelope> m = c.Receive(absl::Milliseconds(200));
    if (m.has_value()) h->Deliver(c, *m);
  }
}

std::map<std::string, int> SendConfirmed(agent::Client& sender, const std::string& to,
                                         const std::string& prefix, int count,
                                         std::vector<std::string>* confirmed,
                                         const std::atomic<bool>& stop, absl::Duration pause) {
  std::map<std::string, int> refusals;
  for (int i = 0; i < count && !stop; ++i) {
    const std::string id = absl::StrCat(prefix, i);
    while (!stop) {
      absl::StatusOr<v1::SendResult> r = sender.Send(To(to, id), absl::Seconds(5));
      if (r.ok()) {
        confirmed->push_back(id);
        break;
      }
      ++refusals[v1::ErrorReason_Name(wire::ReasonOf(r.status()))];
      absl::SleepFor(absl::Milliseconds(50));
    }
    if (pause > absl::ZeroDuration()) absl::SleepFor(pause);
  }
  return refusals;
}

}  // namespace latentbus::testing
