#include "deploy/fleet/fleet_control.h"

#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "deploy/fleet/broker_probe.h"
#include "yaml-cpp/yaml.h"

namespace latentbus::fleet {
namespace {

namespace fs = std::filesystem;

// Waits until `id` has gone; false when it still runs at the deadline.
bool AwaitExit(const ProcessId& id, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (IsRunning(id)) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return true;
}

// SIGTERM, up to `timeout`, then SIGKILL to the process group (the members lead their
// own groups). Sets `forced` / `left_running` in `result`.
void StopProcess(const MemberState& member, absl::Duration timeout, DownResult* result) {
  if (!IsRunning(member.process)) return;
  kill(member.process.pid, SIGTERM);
  if (AwaitExit(member.process, timeout)) {
    result->notes.push_back(absl::StrCat(member.name, " (pid ", member.process.pid, ") stopped"));
    return;
  }
  kill(-member.process.pid, SIGKILL);
  kill(member.process.pid, SIGKILL);
  result->forced = true;
  if (AwaitExit(member.process, absl::Seconds(5))) {
    result->notes.push_back(absl::StrCat(member.name, " (pid ", member.process.pid,
                                         ") killed after ", absl::FormatDuration(timeout)));
  } else {
    result->left_running = true;
    result->notes.push_back(
        absl::StrCat(member.name, " (pid ", member.process.pid, ") survived SIGKILL"));
  }
}

absl::StatusOr<std::string> NameInFile(const std::string& path) {
  try {
    YAML::Node root = YAML::LoadFile(path);
    if (root.IsMap() && root["name"] && root["name"].IsScalar()) {
      return root["name"].as<std::string>();
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", e.what()));
  }
  return absl::InvalidArgumentError(absl::StrCat(path, ": no fleet name (name:)"));
}

// The port of "host:port", 0 when there is none.
int PortOf(const std::string& address) {
  const size_t colon = address.rfind(':');
  return colon == std::string::npos ? 0 : std::atoi(address.c_str() + colon + 1);
}

void InspectNats(FleetStatus* status) {
  std::vector<nats::NatsHealth> probes;
  for (MemberStatus& n : status->nats) {
    if (n.running) {
      n.nats = nats::ProbeNatsHealth(PortOf(n.member.monitor), /*streams=*/true);
    } else {
      n.nats.problem = "not running";
    }
    probes.push_back(n.nats);
  }
  const std::vector<std::string> problems =
      nats::ReadinessProblems(probes, /*jetstream=*/true, /*clustered=*/probes.size() > 1);
  for (size_t i = 0; i < problems.size(); ++i) status->nats[i].nats_problem = problems[i];
  for (const nats::NatsHealth& p : probes) {
    if (!p.meta_leader.empty()) {
      status->jetstream.meta_leader = p.meta_leader;
      break;
    }
  }
  status->jetstream.streams = nats::StreamsAsLeadersSee(probes);
}

// Asks every running broker; an agent is matched to the broker listing it connected, else
// to any broker listing it.
void InspectBrokers(const std::string& token, absl::Duration timeout, FleetStatus* status) {
  for (MemberStatus& b : status->brokers) {
    if (!b.running || b.member.address.empty()) {
      b.list_status = absl::UnavailableError("the broker is not running");
      continue;
    }
    BrokerProbe probe(b.member.address, token);
    b.serving = probe.Serving(timeout);
    absl::StatusOr<std::vector<v1::AgentInfo>> listed = probe.ListAgents(timeout);
    b.list_status = listed.status();
    if (!listed.ok()) continue;
    for (v1::AgentInfo& info : *listed) {
      for (MemberStatus& a : status->agents) {
        if (a.member.name != info.agent_id()) continue;
        if (!a.agent || (!a.agent->connected() && info.connected())) {
          a.agent = info;
          a.broker = b.member.name;
        }
      }
    }
  }
}

}  // namespace

absl::StatusOr<std::string> FindRunDir(const std::string& root, const std::string& fleet) {
  std::error_code error;
  if (!fleet.empty()) {
    std::string name = fleet;
    if (fs::is_regular_file(fleet, error)) {
      absl::StatusOr<std::string> in_file = NameInFile(fleet);
      if (!in_file.ok()) return in_file.status();
      name = *in_file;
    } else if (absl::EndsWith(fleet, ".yaml") || absl::EndsWith(fleet, ".yml")) {
      return absl::NotFoundError(absl::StrCat("no fleet file ", fleet));
    }
    const std::string dir = root + "/" + name;
    if (!fs::exists(StatePath(dir), error)) {
      return absl::NotFoundError(absl::StrCat("no fleet '", name, "' (no ", StatePath(dir),
                                              "); start it with "
                                              "`latentbus fleet up FLEET.yaml`"));
    }
    return dir;
  }
  std::vector<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(root, error)) {
    if (fs::exists(StatePath(entry.path().string()), error)) {
      names.push_back(entry.path().filename().string());
    }
  }
  if (names.empty()) return absl::NotFoundError(absl::StrCat("no fleet under ", root));
  if (names.size() > 1) {
    std::sort(names.begin(), names.end());
    return absl::InvalidArgumentError(absl::StrCat("several fleets under ", root, " (",
                                                   absl::StrJoin(names, ", "), "): name one"));
  }
  return root + "/" + names[0];
}

bool FleetStatus::Healthy() const {
  if (!supervisor_running || brokers.empty()) return false;
  for (const MemberStatus& n : nats) {
    if (!n.running || !n.nats_problem.empty()) return false;
  }
  for (const MemberStatus& b : brokers) {
    if (!b.running || !b.serving.ok() || !*b.serving) return false;
  }
  for (const MemberStatus& a : agents) {
    if (!a.running || !a.agent || !a.agent->connected()) return false;
  }
  return true;
}

absl::StatusOr<FleetStatus> InspectFleet(const std::string& run_dir, const std::string& token,
                                         absl::Duration timeout) {
  absl::StatusOr<FleetState> state = ReadState(StatePath(run_dir));
  if (!state.ok()) return state.status();
  FleetStatus status;
  status.state = *state;
  status.supervisor_running = IsRunning(state->supervisor);
  auto add = [](const std::vector<MemberState>& members, std::vector<MemberStatus>* out) {
    for (const MemberState& m : members) {
      MemberStatus s;
      s.member = m;
      s.running = IsRunning(m.process);
      out->push_back(std::move(s));
    }
  };
  add(state->nats, &status.nats);
  add(state->brokers, &status.brokers);
  add(state->agents, &status.agents);
  if (!status.nats.empty()) InspectNats(&status);
  InspectBrokers(token, timeout, &status);
  return status;
}

absl::StatusOr<DownResult> StopFleet(const std::string& run_dir) {
  const std::string path = StatePath(run_dir);
  absl::StatusOr<FleetState> state = ReadState(path);
  if (!state.ok()) return state.status();
  DownResult result;
  const absl::Duration member_timeout = absl::Seconds(state->stop_timeout_seconds);
  if (IsRunning(state->supervisor)) {
    result.was_running = true;
    kill(state->supervisor.pid, SIGTERM);
    // `fleet up` stops the agents, then the brokers, then the nats-servers, each within
    // the stop timeout (plus up to 5 s after a SIGKILL).
    const absl::Duration budget = 3 * (member_timeout + absl::Seconds(5)) + absl::Seconds(5);
    if (AwaitExit(state->supervisor, budget)) {
      result.notes.push_back(absl::StrCat("fleet up (pid ", state->supervisor.pid, ") stopped"));
    } else {
      kill(state->supervisor.pid, SIGKILL);
      result.forced = true;
      AwaitExit(state->supervisor, absl::Seconds(5));
      result.notes.push_back(absl::StrCat("fleet up (pid ", state->supervisor.pid,
                                          ") did not stop in ", absl::FormatDuration(budget),
                                          ": killed"));
    }
    if (absl::StatusOr<FleetState> final_state = ReadState(path); final_state.ok()) {
      state = *std::move(final_state);
    }
  }
  // Whatever `fleet up` did not stop (it died, or was killed above): agents, brokers, then
  // nats-servers.
  for (const std::vector<MemberState>* group : {&state->agents, &state->brokers, &state->nats}) {
    for (const MemberState& member : *group) {
      if (IsRunning(member.process)) result.was_running = true;
      StopProcess(member, member_timeout, &result);
    }
  }
  result.up_exit_code = state->exit_code;
  if (state->phase != "stopped") {
    state->phase = "stopped";
    if (absl::Status s = WriteState(*state, path); !s.ok()) result.notes.push_back(s.ToString());
  }
  return result;
}

}  // namespace latentbus::fleet
