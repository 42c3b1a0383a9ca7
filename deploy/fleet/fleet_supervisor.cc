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
  port_file_ = options_.run_dir + "/broker.port";
  for (const AgentSpec& agent : spec_.agents) {
    name_width_ = std::max(name_width_, agent.id.size());
  }
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
  fs::remove(port_file_, error);
  for (const AgentSpec& agent : spec_.agents) {
    fs::remove(options_.run_dir + "/" + agent.id + ".ready", error);
  }
  state_ = FleetState();
  state_.name = spec_.name;
  state_.fleet_file = spec_.source;
  state_.started_unix = absl::ToUnixSeconds(absl::Now());
  state_.supervisor = Identify(getpid());
  state_.metrics_listen = spec_.broker.metrics_listen;
  state_.stop_timeout_seconds = spec_.stop_timeout_seconds;
  return true;
}

bool FleetSupervisor::Start(const std::string& name, const std::vector<std::string>& args,
                            const std::string& ready_file) {
  absl::StatusOr<std::unique_ptr<ChildProcess>> child =
      ChildProcess::Spawn(options_.latentbus, args);
  if (!child.ok()) {
    failure_ = absl::StrCat(name, ": ", child.status().message());
    return false;
  }
  Member member;
  member.name = name;
  member.process = *std::move(child);
  member.log = std::make_unique<LinePrefixer>(Padded(name, name_width_), options_.out);
  member.ready_file = ready_file;
  Say(absl::StrCat("started ", name, " (pid ", member.process->pid(), "): latentbus ",
                   Quoted(args)));
  MemberState recorded{name, Identify(member.process->pid()), ready_file};
  if (name == "broker" && members_.empty()) {
    state_.broker = recorded;
  } else {
    state_.agents.push_back(recorded);
  }
  members_.push_back(std::move(member));
  return true;
}

template <typename Ready>
bool FleetSupervisor::WaitUntil(Ready ready, const std::string& what) {
  const absl::Time deadline = absl::Now() + absl::Seconds(spec_.ready_timeout_seconds);
  while (true) {
    if (stop_signals_ > 0 || failure_) return false;
    if (ready()) return true;
    if (absl::Now() > deadline) {
      failure_ = absl::StrCat(what, " not ready within ", spec_.ready_timeout_seconds,
                              " s (ready_timeout_seconds)");
      return false;
    }
    Pump(kTick);
  }
}

bool FleetSupervisor::BrokerReady() {
  if (!probe_) {
    std::ifstream in(port_file_);
    int port = 0;
    if (!(in >> port) || port <= 0) return false;
    state_.broker_address = DialAddress(spec_.broker.listen, port);
    probe_ = std::make_unique<BrokerProbe>(state_.broker_address);
  }
  absl::StatusOr<bool> serving = probe_->Serving(absl::Milliseconds(500));
  return serving.ok() && *serving;
}

std::vector<std::string> FleetSupervisor::AgentsNotReady() const {
  std::vector<std::string> waiting;
  std::error_code error;
  for (const Member& m : members_) {
    if (!m.ready_file.empty() && !fs::exists(m.ready_file, error)) waiting.push_back(m.name);
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

void FleetSupervisor::StopMembers(size_t first, size_t last) {
  auto running = [&] {
    std::vector<Member*> out;
    for (size_t i = first; i < last; ++i) {
      if (!members_[i].process->exit_status()) out.push_back(&members_[i]);
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
    StopMembers(1, members_.size());  // agents first: they leave the broker cleanly
    StopMembers(0, 1);                // then the broker drains
  }
  int code = failure_ ? kFleetFailed : kStoppedCleanly;
  for (const Member& m : members_) {
    const std::optional<ExitStatus>& exit = m.process->exit_status();
    if (code == kStoppedCleanly && (m.killed || !exit || !StoppedOnRequest(*exit))) {
      code = kStoppedByForce;
    }
  }
  std::error_code error;
  fs::remove(port_file_, error);
  for (const Member& m : members_) {
    if (!m.ready_file.empty()) fs::remove(m.ready_file, error);
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
  if (!Start("broker", BrokerArgs(spec_.broker, port_file_), "")) return Stop();
  SaveState("starting");
  if (!WaitUntil([this] { return BrokerReady(); }, "the broker")) return Stop();
  SaveState("starting");
  Say(absl::StrCat("broker ready at ", state_.broker_address, " (grpc.health.v1 SERVING)"));
  for (const AgentSpec& agent : spec_.agents) {
    const std::string ready_file = options_.run_dir + "/" + agent.id + ".ready";
    if (!Start(agent.id, AgentArgs(agent, state_.broker_address, ready_file), ready_file)) {
      return Stop();
    }
  }
  if (!spec_.agents.empty()) {
    SaveState("starting");
    if (!WaitUntil([this] { return AgentsNotReady().empty(); }, "agents")) {
      if (failure_ && stop_signals_ == 0 && absl::StrContains(*failure_, "not ready")) {
        failure_ = absl::StrCat("agents ", absl::StrJoin(AgentsNotReady(), ", "), " ",
                                failure_->substr(failure_->find("not ready")));
      }
      return Stop();
    }
  }
  SaveState("running");
  std::vector<std::string> ids;
  for (const AgentSpec& agent : spec_.agents) ids.push_back(agent.id);
  Say(absl::StrCat("fleet ", spec_.name, " up: broker ", state_.broker_address,
                   ids.empty() ? "" : ", agents " + absl::StrJoin(ids, ", "),
                   "; `latentbus fleet status ", spec_.name, "`, Ctrl-C or `latentbus fleet down ",
                   spec_.name, "` to stop"));
  while (stop_signals_ == 0 && !failure_) Pump(absl::Seconds(1));
  return Stop();
}

}  // namespace latentbus::fleet
