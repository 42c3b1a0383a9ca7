// `latentbus fleet up|status|down`: nats-servers, brokers and agents as local processes
// (deploy/fleet/). `up` runs in the foreground until Ctrl-C, SIGTERM or `fleet down`;
// `status` and `down` find it through its state file.
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "cli/commands.h"
#include "deploy/fleet/fleet_control.h"
#include "deploy/fleet/fleet_spec.h"
#include "deploy/fleet/fleet_supervisor.h"
#include "nlohmann/json.hpp"

namespace latentbus::cli {
namespace {

using fleet::FleetExitCode;

struct FleetFlags {
  std::string fleet_dir = fleet::DefaultRunRoot();
  std::string file;   // up: FLEET.yaml
  std::string fleet;  // status/down: name, FLEET.yaml, or "" for the only one
  double ready_timeout = 0;
  double stop_timeout = 0;
  std::string bridges;
  std::string token_file;
  bool json = false;
};

std::string SelfExe() {
  char path[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
  return n > 0 ? std::string(path, n) : "";
}

int RunUp(const FleetFlags& flags) {
  absl::StatusOr<fleet::FleetSpec> spec = fleet::LoadFleetFile(flags.file);
  if (!spec.ok()) {
    std::cerr << "error: " << spec.status().message() << "\n";
    return fleet::kUsage;
  }
  if (flags.ready_timeout > 0) spec->ready_timeout_seconds = flags.ready_timeout;
  if (flags.stop_timeout > 0) spec->stop_timeout_seconds = flags.stop_timeout;
  if (!flags.bridges.empty()) {
    std::error_code error;
    spec->broker.bridges = std::filesystem::absolute(flags.bridges, error).string();
  }
  fleet::SupervisorOptions options;
  options.latentbus = SelfExe();
  options.run_dir = flags.fleet_dir + "/" + spec->name;
  fleet::FleetSupervisor supervisor(*std::move(spec), options);
  return supervisor.Run();
}

absl::StatusOr<std::string> ReadToken(const std::string& path) {
  if (path.empty()) return std::string();
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read --token-file ", path));
  std::ostringstream text;
  text << in.rdbuf();
  return std::string(absl::StripAsciiWhitespace(text.str()));
}

std::string Age(int64_t since_unix) {
  const int64_t s = absl::ToUnixSeconds(absl::Now()) - since_unix;
  if (s < 120) return absl::StrCat(s, " s");
  if (s < 7200) return absl::StrCat(s / 60, " min");
  return absl::StrCat(s / 3600, " h ", (s % 3600) / 60, " min");
}

bool Serving(const fleet::MemberStatus& broker) { return broker.serving.ok() && *broker.serving; }

nlohmann::json StatusJson(const fleet::FleetStatus& st) {
  auto member = [](const fleet::MemberStatus& m) {
    return nlohmann::json{
        {"name", m.member.name}, {"pid", m.member.process.pid}, {"running", m.running}};
  };
  nlohmann::json brokers = nlohmann::json::array();
  bool all_serving = !st.brokers.empty();
  for (const fleet::MemberStatus& b : st.brokers) {
    nlohmann::json j = member(b);
    j["address"] = b.member.address;
    j["serving"] = Serving(b);
    j["metrics_listen"] = b.member.monitor;
    if (!b.list_status.ok()) j["list_agents_error"] = std::string(b.list_status.message());
    brokers.push_back(j);
    all_serving = all_serving && Serving(b);
  }
  nlohmann::json agents = nlohmann::json::array();
  for (const fleet::MemberStatus& a : st.agents) {
    nlohmann::json j = member(a);
    if (a.agent) {
      j["connected"] = a.agent->connected();
      j["broker"] = a.broker;
      j["model_id"] = a.agent->model().model_id();
      j["queue_depth"] = a.agent->queue_depth();
      j["unacked"] = a.agent->unacked();
    }
    agents.push_back(j);
  }
  nlohmann::json j = {{"name", st.state.name},
                      {"phase", st.state.phase},
                      {"healthy", st.Healthy()},
                      {"supervisor_pid", st.state.supervisor.pid},
                      {"supervisor_running", st.supervisor_running},
                      {"broker_address", st.state.broker_address},
                      {"broker_serving", all_serving},
                      {"brokers", brokers},
                      {"agents", agents}};
  if (!st.nats.empty()) {
    nlohmann::json servers = nlohmann::json::array();
    for (const fleet::MemberStatus& n : st.nats) {
      nlohmann::json s = member(n);
      s["url"] = n.member.address;
      s["monitor"] = n.member.monitor;
      s["healthy"] = n.nats.healthy;
      s["jetstream"] = n.nats.jetstream;
      s["meta_leader"] = n.nats.meta_leader;
      s["ready"] = n.nats_problem.empty();
      if (!n.nats_problem.empty()) s["problem"] = n.nats_problem;
      servers.push_back(s);
    }
    nlohmann::json streams = nlohmann::json::array();
    for (const nats::NatsStream& stream : st.jetstream.streams) {
      nlohmann::json replicas = nlohmann::json::array();
      for (const nats::NatsStreamReplica& r : stream.replicas) {
        replicas.push_back(
            {{"name", r.name}, {"current", r.current}, {"offline", r.offline}, {"lag", r.lag}});
      }
      streams.push_back({{"name", stream.name},
                         {"leader", stream.leader},
                         {"messages", stream.messages},
                         {"replicas", replicas}});
    }
    j["nats"] = {
        {"meta_leader", st.jetstream.meta_leader}, {"servers", servers}, {"streams", streams}};
  }
  if (st.state.exit_code) j["exit_code"] = *st.state.exit_code;
  return j;
}

// "LATENTBUS  leader nats1  nats0 current, nats2 lag 3  12 messages".
std::string StreamLine(const nats::NatsStream& stream) {
  std::vector<std::string> copies;
  for (const nats::NatsStreamReplica& r : stream.replicas) {
    copies.push_back(absl::StrCat(r.name, " ",
                                  r.offline   ? "offline"
                                  : r.current ? "current"
                                              : absl::StrCat("behind (lag ", r.lag, ")")));
  }
  return absl::StrCat(stream.name, "  leader ", stream.leader.empty() ? "none" : stream.leader,
                      "  replicas ", copies.empty() ? "-" : absl::StrJoin(copies, ", "), "  ",
                      stream.messages, " messages");
}

void PrintStatus(const fleet::FleetStatus& st, const std::string& run_dir) {
  const fleet::FleetState& s = st.state;
  std::cout << "fleet " << s.name << ": " << s.phase;
  if (s.exit_code) std::cout << " (fleet up exited with code " << *s.exit_code << ")";
  if (s.phase != "stopped") {
    std::cout << ", up " << Age(s.started_unix) << ", fleet up pid " << s.supervisor.pid
              << (st.supervisor_running ? "" : " (gone)");
  }
  std::cout << "\n  state: " << fleet::StatePath(run_dir) << "\n";
  size_t width = 6;
  for (const auto* group : {&st.nats, &st.brokers, &st.agents}) {
    for (const fleet::MemberStatus& m : *group) width = std::max(width, m.member.name.size());
  }
  auto line = [&](const fleet::MemberStatus& m, const std::string& detail) {
    std::cout << "  " << m.member.name << std::string(width - m.member.name.size(), ' ') << "  pid "
              << m.member.process.pid << "  " << (m.running ? "running" : "not running") << "  "
              << detail << "\n";
  };
  for (const fleet::MemberStatus& n : st.nats) {
    std::string detail = n.member.address;
    if (n.running) {
      detail += n.nats_problem.empty() ? "  healthy" : "  NOT READY: " + n.nats_problem;
      if (!n.nats.meta_leader.empty()) detail += "  meta leader " + n.nats.meta_leader;
    }
    detail += "  monitor http://" + n.member.monitor;
    line(n, detail);
  }
  for (const fleet::MemberStatus& b : st.brokers) {
    std::string detail = b.member.address.empty() ? "-" : b.member.address;
    if (b.running) {
      detail += b.serving.ok()
                    ? (*b.serving ? "  SERVING" : "  NOT_SERVING (draining)")
                    : absl::StrCat("  health check failed: ", b.serving.status().message());
    }
    if (!b.member.monitor.empty()) detail += "  metrics " + b.member.monitor;
    line(b, detail);
  }
  for (const fleet::MemberStatus& a : st.agents) {
    std::string detail;
    if (a.agent) {
      detail = absl::StrCat(a.agent->connected() ? "connected" : "disconnected",
                            st.brokers.size() > 1 ? " to " + a.broker : "", "  model ",
                            a.agent->model().model_id(), "  queue ", a.agent->queue_depth(),
                            "  unacked ", a.agent->unacked());
    } else {
      std::vector<std::string> failed;
      for (const fleet::MemberStatus& b : st.brokers) {
        if (b.running && !b.list_status.ok()) {
          failed.push_back(absl::StrCat(b.member.name, ": ", b.list_status.message()));
        }
      }
      if (!failed.empty()) {
        detail = absl::StrCat("ListAgents failed (", absl::StrJoin(failed, "; "), ")");
      } else if (std::any_of(st.brokers.begin(), st.brokers.end(),
                             [](const fleet::MemberStatus& b) { return b.running; })) {
        detail = "not registered with a broker";
      }
    }
    line(a, detail);
  }
  if (!st.nats.empty()) {
    std::cout << "  jetstream: meta leader "
              << (st.jetstream.meta_leader.empty() ? "none" : st.jetstream.meta_leader) << ", "
              << st.jetstream.streams.size() << " streams\n";
    for (const nats::NatsStream& stream : st.jetstream.streams) {
      std::cout << "    stream " << StreamLine(stream) << "\n";
    }
  }
}

int RunStatus(const FleetFlags& flags) {
  absl::StatusOr<std::string> run_dir = fleet::FindRunDir(flags.fleet_dir, flags.fleet);
  if (!run_dir.ok()) {
    std::cerr << "error: " << run_dir.status().message() << "\n";
    return 1;
  }
  absl::StatusOr<std::string> token = ReadToken(flags.token_file);
  if (!token.ok()) {
    std::cerr << "error: " << token.status().message() << "\n";
    return fleet::kUsage;
  }
  absl::StatusOr<fleet::FleetStatus> status =
      fleet::InspectFleet(*run_dir, *token, absl::Seconds(3));
  if (!status.ok()) {
    std::cerr << "error: " << status.status().message() << "\n";
    return 1;
  }
  if (flags.json) {
    std::cout << StatusJson(*status).dump(2) << "\n";
  } else {
    PrintStatus(*status, *run_dir);
  }
  return status->Healthy() ? 0 : 1;
}

int RunDown(const FleetFlags& flags) {
  absl::StatusOr<std::string> run_dir = fleet::FindRunDir(flags.fleet_dir, flags.fleet);
  if (!run_dir.ok()) {
    std::cerr << "error: " << run_dir.status().message() << "\n";
    return 1;
  }
  absl::StatusOr<fleet::DownResult> down = fleet::StopFleet(*run_dir);
  if (!down.ok()) {
    std::cerr << "error: " << down.status().message() << "\n";
    return 1;
  }
  for (const std::string& note : down->notes) std::cout << "  " << note << "\n";
  if (!down->was_running) {
    std::cout << "fleet at " << *run_dir << ": not running\n";
    return 0;
  }
  int code = fleet::kStoppedCleanly;
  if (down->left_running) {
    code = fleet::kFleetFailed;
  } else if (down->forced || down->up_exit_code.value_or(0) != fleet::kStoppedCleanly) {
    code = fleet::kStoppedByForce;
  }
  std::cout << "fleet at " << *run_dir << ": "
            << (code == fleet::kFleetFailed ? "NOT fully stopped" : "stopped");
  if (down->up_exit_code) std::cout << " (fleet up exited with code " << *down->up_exit_code << ")";
  std::cout << "\n";
  return code;
}

}  // namespace

void RegisterFleetCommands(CLI::App& app, RunFn* run) {
  auto flags = std::make_shared<FleetFlags>();
  CLI::App* fleet = app.add_subcommand(
      "fleet",
      "Run a broker and its agents as local processes (the deploy/k8s dev topology on one "
      "machine), optionally several brokers over a NATS JetStream cluster it also runs: up, "
      "status, down.");
  fleet->require_subcommand(1);
  auto add_dir = [&](CLI::App* cmd) {
    cmd->add_option("--fleet-dir", flags->fleet_dir,
                    "folder holding one run folder per fleet (state.json, the brokers' port "
                    "files, ready files, nats-server configurations and store); "
                    "$LATENTBUS_FLEET_DIR overrides the default")
        ->capture_default_str();
  };

  CLI::App* up = fleet->add_subcommand(
      "up",
      "Start the nats-servers (with a nats section) and wait for JetStream, start the "
      "brokers and wait until they are SERVING, start the agents, wait for their ready "
      "files, then stream every member's output prefixed with its name until Ctrl-C, "
      "SIGTERM or `fleet down`, which stop the agents, then the brokers, then the "
      "nats-servers (SIGTERM, then SIGKILL after stop_timeout_seconds).");
  up->add_option("FLEET", flags->file, "fleet file (layout: deploy/fleet/fleet_spec.h)")
      ->required()
      ->check(CLI::ExistingFile);
  add_dir(up);
  up->add_option("--ready-timeout", flags->ready_timeout,
                 "seconds members may take to become healthy (overrides the file)")
      ->check(CLI::PositiveNumber);
  up->add_option("--stop-timeout", flags->stop_timeout,
                 "seconds each member gets to exit after SIGTERM (overrides the file)")
      ->check(CLI::PositiveNumber);
  up->add_option("--bridges", flags->bridges,
                 "folder of *.bridge artifacts for the broker (overrides broker.bridges), "
                 "e.g. \"$(scripts/fit-bridges.sh)\"")
      ->check(CLI::ExistingDirectory);
  up->footer(
      "Exit codes: 0 stopped on request, every member exited cleanly; 1 a member failed to "
      "start or become healthy, or exited on its own (the fleet is then stopped); 2 bad "
      "fleet file; 3 stopped on request but a member needed SIGKILL or exited non-zero. "
      "(Malformed flags get the CLI parser's own codes.)");
  up->callback([flags, run] { *run = [flags] { return RunUp(*flags); }; });

  CLI::App* status = fleet->add_subcommand(
      "status",
      "Show a running fleet: its processes, JetStream's health (each nats-server, the meta "
      "leader, each stream's copies), the brokers' health and ListAgents.");
  status->add_option("FLEET", flags->fleet,
                     "fleet name or fleet file (default: the only fleet in --fleet-dir)");
  add_dir(status);
  status
      ->add_option("--token-file", flags->token_file,
                   "admin bearer token for ListAgents when the brokers have tokens")
      ->check(CLI::ExistingFile);
  status->add_flag("--json", flags->json, "print JSON");
  status->footer(
      "Exit codes: 0 healthy (every process running, every nats-server healthy with one "
      "meta leader, every broker SERVING, every agent connected); 1 otherwise, or no such "
      "fleet; 2 unreadable --token-file.");
  status->callback([flags, run] { *run = [flags] { return RunStatus(*flags); }; });

  CLI::App* down = fleet->add_subcommand(
      "down",
      "Stop a fleet another `fleet up` runs: SIGTERM to that process, which stops its "
      "members in order; members it leaves behind are stopped directly.");
  down->add_option("FLEET", flags->fleet,
                   "fleet name or fleet file (default: the only fleet in --fleet-dir)");
  add_dir(down);
  down->footer(
      "Exit codes: 0 stopped cleanly or not running; 1 no such fleet, or a process "
      "survived SIGKILL; 3 stopped, but a member needed SIGKILL or exited non-zero.");
  down->callback([flags, run] { *run = [flags] { return RunDown(*flags); }; });
}

}  // namespace latentbus::cli
