#include "deploy/fleet/fleet_supervisor.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "deploy/fleet/broker_probe.h"
#include "nats/loopback_ports.h"
#include "nats/nats_health.h"
#include "nats/nats_server_binary.h"
#include "nats/nats_server_config.h"

namespace latentbus::fleet {
namespace {

namespace fs = std::filesystem;

constexpr absl::Duration kTick = absl::Milliseconds(100);

std::string Padded(const std::string& name, size_t width) {
  return name + std::string(width > name.size() ? width - name.size() : 0, ' ') + " | ";
}

// A command line as a shell would need it, for the log.
std::string Quoted(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (const std::string& a : args) {
    const bool plain = !a.empty() && a.find_first_of(" \t'\"\\$`") == std::string::npos;
    out.push_back(plain ? a : absl::StrCat("'", absl::StrReplaceAll(a, {{"'", "'\\''"}}), "'"));
  }
  return absl::StrJoin(out, " ");
}

bool StoppedOnRequest(const ExitStatus& exit) {
  return exit.clean() || (exit.signaled && exit.code == SIGTERM);
}

}  // namespace

FleetSupervisor::FleetSupervisor(FleetSpec spec, SupervisorOptions options)
    : spec_(std::move(spec)), options_(std::move(options)) {
  state_path_ = StatePath(options_.run_dir);
  for (const AgentSpec& agent : spec_.agents) {
    name_width_ = std::max(name_width_, agent.id.size());
  }
  name_width_ = std::max(name_width_, BrokerName(spec_.broker, spec_.broker.replicas - 1).size());
  own_log_ = std::make_unique<LinePrefixer>(Padded("fleet", name_width_), options_.out);
}

FleetSupervisor::~FleetSupervisor() {
  members_.clear();  // kills whatever still runs
  if (signal_fd_ >= 0) close(signal_fd_);
}

void FleetSupervisor::Say(const std::string& line) { own_log_->Write(line + "\n"); }

void FleetSupervisor::SaveState(const std::string& phase) {
  state_.phase = phase;
  if (absl::Status s = WriteState(state_, state_path_); !s.ok()) Say(s.ToString());
}

bool FleetSupervisor::Prepare() {
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGCHLD}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal_fd_ = signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd_ < 0) {
    failure_ = absl::StrCat("signalfd: ", strerror(errno));
    return false;
  }
  signal(SIGPIPE, SIG_IGN);  // a closed log reader must not kill the launcher

  std::error_code error;
  fs::create_directories(options_.run_dir, error);
  if (error) {
    failure_ = absl::StrCat("cannot create ", options_.run_dir, ": ", error.message());
    return false;
  }
  if (absl::StatusOr<FleetState> old = ReadState(state_path_);
      old.ok() && old->phase != "stopped" && IsRunning(old->supervisor)) {
    failure_ =
        absl::StrCat("fleet '", spec_.name, "' is already running (pid ", old->supervisor.pid,
                     "); stop it with `latentbus fleet down ", spec_.name, "`");
    return false;
  }
  for (int i = 0; i < spec_.broker.replicas; ++i) {
    fs::remove(absl::StrCat(options_.run_dir, "/", BrokerName(spec_.broker, i), ".port"), error);
  }
  for (const AgentSpec& agent : spec_.agents) {
    fs::remove(options_.run_dir + "/" + agent.id + ".ready", error);
  }
  state_ = FleetState();
  state_.name = spec_.name;
  state_.fleet_file = spec_.source;
  state_.started_unix = absl::ToUnixSeconds(absl::Now());
  state_.supervisor = Identify(getpid());
  state_.stop_timeout_seconds = spec_.stop_timeout_seconds;
  return true;
}

bool FleetSupervisor::Start(Role role, const std::string& program,
                            const std::vector<std::string>& args, MemberState state) {
  absl::StatusOr<std::unique_ptr<ChildProcess>> child = ChildProcess::Spawn(program, args);
  if (!child.ok()) {
    failure_ = absl::StrCat(state.name, ": ", child.status().message());
    return false;
  }
  Member member;
  member.name = state.name;
  member.role = role;
  member.process = *std::move(child);
  member.log = std::make_unique<LinePrefixer>(Padded(state.name, name_width_), options_.out);
  member.ready_file = state.ready_file;
  Say(absl::StrCat("started ", state.name, " (pid ", member.process->pid(),
                   "): ", role == Role::kNats ? program : "latentbus", " ", Quoted(args)));
  state.process = Identify(member.process->pid());
  switch (role) {
    case Role::kNats:
      state_.nats.push_back(std::move(state));
      break;
    case Role::kBroker:
      state_.brokers.push_back(std::move(state));
      break;
    case Role::kAgent:
      state_.agents.push_back(std::move(state));
      break;
  }
  members_.push_back(std::move(member));
  return true;
}

std::vector<FleetSupervisor::Member*> FleetSupervisor::MembersOf(Role role) {
  std::vector<Member*> out;
  for (Member& m : members_) {
    if (m.role == role) out.push_back(&m);
  }
  return out;
}

template <typename Ready, typename NotReady>
bool FleetSupervisor::WaitUntil(Ready ready, NotReady not_ready, const std::string& what) {
  const absl::Time deadline = absl::Now() + absl::Seconds(spec_.ready_timeout_seconds);
  while (true) {
    if (stop_signals_ > 0 || failure_) return false;
    if (ready()) return true;
    if (absl::Now() > deadline) {
      failure_ = absl::StrCat(what, " not ready within ", spec_.ready_timeout_seconds,
                              " s (ready_timeout_seconds): ", absl::StrJoin(not_ready(), "; "));
      return false;
    }
    Pump(kTick);
  }
}

bool FleetSupervisor::StartNats() {
  const NatsSpec& spec = *spec_.nats;
  absl::StatusOr<std::string> executable =
      nats::FindExecutable(spec.binary.empty() ? nats::DefaultNatsServer() : spec.binary);
  if (!executable.ok()) {
    failure_ = absl::StrCat("nats.binary: ", executable.status().message());
    return false;
  }
  const std::string version = nats::NatsServerVersion(*executable);
  if (absl::Status s = nats::CheckJetStreamVersion(*executable, version); !s.ok()) {
    failure_ = absl::StrCat("nats.binary: ", s.message());
    return false;
  }
  absl::StatusOr<std::vector<int>> picked = nats::FreeLoopbackPorts(NatsPortsToPick(spec));
  if (!picked.ok()) {
    failure_ = absl::StrCat("nats: ", picked.status().message());
    return false;
  }
  const std::vector<nats::NatsServerOptions> nodes =
      NatsNodes(spec, spec_.name, NatsStoreRoot(spec, options_.run_dir), *picked);
  nats_urls_ = NatsUrls(nodes);
  Say(absl::StrCat(version, " (", *executable, "); JetStream stores under ",
                   NatsStoreRoot(spec, options_.run_dir)));
  for (const nats::NatsServerOptions& node : nodes) {
    const std::string config = absl::StrCat(options_.run_dir, "/", node.server_name, ".conf");
    std::error_code error;
    fs::create_directories(node.store_dir, error);
    if (error) {
      failure_ = absl::StrCat("cannot create ", node.store_dir, ": ", error.message());
      return false;
    }
    {
      std::ofstream out(config, std::ios::trunc);
      out << nats::NatsServerConfig(node, node.store_dir);
      if (!out) {
        failure_ = absl::StrCat("cannot write ", config);
        return false;
      }
    }
    MemberState state;
    state.name = node.server_name;
    state.address = absl::StrCat("nats://127.0.0.1:", node.port);
    state.monitor = absl::StrCat("127.0.0.1:", node.monitor_port);
    if (!Start(Role::kNats, *executable, {"-c", config}, std::move(state))) return false;
    members_.back().monitor_port = node.monitor_port;
  }
  SaveState("starting");
  std::string meta_leader;
  if (!WaitUntil([&] { return NatsNotReady(&meta_leader).empty(); },
                 [&] { return NatsNotReady(&meta_leader); }, "the nats-servers")) {
    return false;
  }
  Say(absl::StrCat("nats ready: ", nats_urls_,
                   meta_leader.empty()
                       ? " (standalone JetStream)"
                       : absl::StrCat(" (JetStream meta leader ", meta_leader, ")")));
  return true;
}

std::vector<std::string> FleetSupervisor::NatsNotReady(std::string* meta_leader) {
  std::vector<Member*> servers = MembersOf(Role::kNats);
  std::vector<nats::NatsHealth> probes;
  for (Member* m : servers) probes.push_back(nats::ProbeNatsHealth(m->monitor_port));
  const std::vector<std::string> problems =
      nats::ReadinessProblems(probes, /*jetstream=*/true, /*clustered=*/servers.size() > 1);
  std::vector<std::string> out;
  for (size_t i = 0; i < servers.size(); ++i) {
    if (!problems[i].empty()) out.push_back(absl::StrCat(servers[i]->name, ": ", problems[i]));
  }
  *meta_leader = probes.empty() ? "" : probes[0].meta_leader;
  return out;
}

bool FleetSupervisor::StartBrokers() {
  for (int i = 0; i < spec_.broker.replicas; ++i) {
    MemberState state;
    state.name = BrokerName(spec_.broker, i);
    state.monitor = ShiftPort(spec_.broker.metrics_listen, i);
    const std::string port_file = absl::StrCat(options_.run_dir, "/", state.name, ".port");
    if (!Start(Role::kBroker, options_.latentbus, BrokerArgs(spec_, i, port_file, nats_urls_),
               std::move(state))) {
      return false;
    }
    members_.back().port_file = port_file;
  }
  SaveState("starting");
  if (!WaitUntil([this] { return BrokersNotReady().empty(); }, [this] { return BrokersNotReady(); },
                 spec_.broker.replicas == 1 ? "the broker" : "the brokers")) {
    return false;
  }
  std::vector<std::string> addresses;
  for (const MemberState& b : state_.brokers) addresses.push_back(b.address);
  state_.broker_address = absl::StrJoin(addresses, ",");
  SaveState("starting");
  for (const MemberState& b : state_.brokers) {
    Say(absl::StrCat(b.name, " ready at ", b.address, " (grpc.health.v1 SERVING)"));
  }
  return true;
}

std::vector<std::string> FleetSupervisor::BrokersNotReady() {
  std::vector<std::string> waiting;
  std::vector<Member*> brokers = MembersOf(Role::kBroker);
  for (size_t i = 0; i < brokers.size(); ++i) {
    Member& m = *brokers[i];
    if (!m.probe) {
      std::ifstream in(m.port_file);
      int port = 0;
      if (!(in >> port) || port <= 0) {
        waiting.push_back(absl::StrCat(m.name, ": no port in ", m.port_file, " yet"));
        continue;
      }
      m.address = DialAddress(ShiftPort(spec_.broker.listen, static_cast<int>(i)), port);
      m.probe = std::make_unique<BrokerProbe>(m.address);
      state_.brokers[i].address = m.address;
      SaveState("starting");
    }
    absl::StatusOr<bool> serving = m.probe->Serving(absl::Milliseconds(500));
    if (!serving.ok()) {
      waiting.push_back(absl::StrCat(m.name, ": ", serving.status().message()));
    } else if (!*serving) {
      waiting.push_back(absl::StrCat(m.name, ": NOT_SERVING"));
    }
  }
  return waiting;
}

bool FleetSupervisor::StartAgents() {
  std::vector<std::string> addresses;
  for (const MemberState& b : state_.brokers) addresses.push_back(b.address);
  for (size_t i = 0; i < spec_.agents.size(); ++i) {
    const AgentSpec& agent = spec_.agents[i];
    MemberState state;
    state.name = agent.id;
    state.ready_file = options_.run_dir + "/" + agent.id + ".ready";
    const std::vector<std::string> args =
        AgentArgs(agent, AgentBrokers(addresses, i), state.ready_file);
    if (!Start(Role::kAgent, options_.latentbus, args, std::move(state))) return false;
  }
  if (spec_.agents.empty()) return true;
  SaveState("starting");
  return WaitUntil([this] { return AgentsNotReady().empty(); },
                   [this] {
                     return std::vector<std::string>{absl::StrCat(
                         "no ready file from ", absl::StrJoin(AgentsNotReady(), ", "))};
                   },
                   "agents");
}

std::vector<std::string> FleetSupervisor::AgentsNotReady() const {
  std::vector<std::string> waiting;
  std::error_code error;
  for (const Member& m : members_) {
    if (m.role == Role::kAgent && !fs::exists(m.ready_file, error)) waiting.push_back(m.name);
  }
  return waiting;
}

void FleetSupervisor::Pump(absl::Duration wait) {
  std::vector<pollfd> fds = {{signal_fd_, POLLIN, 0}};
  std::vector<Member*> owners = {nullptr};
  for (Member& m : members_) {
    if (m.process->output_fd() >= 0) {
      fds.push_back({m.process->output_fd(), POLLIN, 0});
      owners.push_back(&m);
    }
  }
  const int ready = poll(fds.data(), fds.size(), absl::ToInt64Milliseconds(wait));
  if (ready > 0 && (fds[0].revents & POLLIN)) {
    signalfd_siginfo info;
    while (read(signal_fd_, &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
      if (info.ssi_signo != SIGCHLD) {
        ++stop_signals_;
        Say(absl::StrCat("received ", SignalName(static_cast<int>(info.ssi_signo)),
                         stop_signals_ == 1 ? ": stopping the fleet" : ": killing what is left"));
      }
    }
  }
  for (size_t i = 1; ready > 0 && i < fds.size(); ++i) {
    if (fds[i].revents != 0) Drain(*owners[i]);
  }
  Reap();
}

void FleetSupervisor::Drain(Member& member) {
  char buffer[16384];
  while (member.process->output_fd() >= 0) {
    const ssize_t n = read(member.process->output_fd(), buffer, sizeof(buffer));
    if (n > 0) {
      member.log->Write(absl::string_view(buffer, n));
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      member.log->Flush();
      member.process->CloseOutput();
    } else if (errno == EAGAIN) {
      return;
    }
  }
}

void FleetSupervisor::Reap() {
  for (Member& m : members_) {
    if (m.process->exit_status()) continue;
    std::optional<ExitStatus> exit = m.process->Poll();
    if (!exit) continue;
    Drain(m);
    m.log->Flush();
    Say(absl::StrCat(m.name, " (pid ", m.process->pid(), ") ", exit->ToString()));
    if (!m.stop_sent && !failure_) {
      failure_ = absl::StrCat(m.name, " ", exit->ToString(), " unexpectedly");
    }
  }
}

void FleetSupervisor::StopMembers(Role role) {
  auto running = [&] {
    std::vector<Member*> out;
    for (Member* m : MembersOf(role)) {
      if (!m->process->exit_status()) out.push_back(m);
    }
    return out;
  };
  std::vector<std::string> names;
  for (Member* m : running()) {
    m->stop_sent = true;
    m->process->Signal(SIGTERM);
    names.push_back(m->name);
  }
  if (names.empty()) return;
  Say(absl::StrCat("SIGTERM to ", absl::StrJoin(names, ", "), "; waiting up to ",
                   spec_.stop_timeout_seconds, " s"));
  const int signals_before = stop_signals_;
  const absl::Time deadline = absl::Now() + absl::Seconds(spec_.stop_timeout_seconds);
  while (!running().empty() && absl::Now() < deadline && stop_signals_ == signals_before) {
    Pump(kTick);
  }
  for (Member* m : running()) {
    Say(absl::StrCat(m->name, " still running: SIGKILL"));
    m->killed = true;
    m->process->KillGroup();
  }
  const absl::Time kill_deadline = absl::Now() + absl::Seconds(5);
  while (!running().empty() && absl::Now() < kill_deadline) Pump(kTick);
}

int FleetSupervisor::Stop() {
  if (failure_) Say(absl::StrCat("failed: ", *failure_));
  if (!members_.empty()) {
    SaveState("stopping");
    StopMembers(Role::kAgent);   // agents first: they leave the brokers cleanly
    StopMembers(Role::kBroker);  // then the brokers drain
    StopMembers(Role::kNats);    // then the queues' servers
  }
  int code = failure_ ? kFleetFailed : kStoppedCleanly;
  for (const Member& m : members_) {
    const std::optional<ExitStatus>& exit = m.process->exit_status();
    if (code == kStoppedCleanly && (m.killed || !exit || !StoppedOnRequest(*exit))) {
      code = kStoppedByForce;
    }
  }
  std::error_code error;
  for (const Member& m : members_) {
    if (!m.ready_file.empty()) fs::remove(m.ready_file, error);
    if (!m.port_file.empty()) fs::remove(m.port_file, error);
  }
  state_.exit_code = code;
  SaveState("stopped");
  const char* meaning = code == kStoppedCleanly   ? "every member stopped cleanly"
                        : code == kStoppedByForce ? "a member had to be killed or exited non-zero"
                                                  : "the fleet failed";
  Say(absl::StrCat("fleet ", spec_.name, " stopped (exit code ", code, ": ", meaning, ")"));
  return code;
}

int FleetSupervisor::Run() {
  if (!Prepare()) {
    Say(absl::StrCat("cannot start: ", failure_.value_or("?")));
    return kFleetFailed;
  }
  SaveState("starting");
  if (spec_.nats && !StartNats()) return Stop();
  if (!StartBrokers()) return Stop();
  if (!StartAgents()) return Stop();
  SaveState("running");
  std::vector<std::string> names;
  for (const Member& m : members_) names.push_back(m.name);
  Say(absl::StrCat("fleet ", spec_.name, " up: ", absl::StrJoin(names, ", "), "; brokers at ",
                   state_.broker_address, "; `latentbus fleet status ", spec_.name,
                   "`, Ctrl-C or `latentbus fleet down ", spec_.name, "` to stop"));
  while (stop_signals_ == 0 && !failure_) Pump(absl::Seconds(1));
  return Stop();
}

}  // namespace latentbus::fleet
