#include "deploy/fleet/fleet_control.h"

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <map>

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
  if (!supervisor_running || !broker.running || !broker_serving.ok() || !*broker_serving) {
    return false;
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
  status.broker = {state->broker, IsRunning(state->broker.process), std::nullopt};
  for (const MemberState& a : state->agents) {
    status.agents.push_back({a, IsRunning(a.process), std::nullopt});
  }
  if (!status.broker.running || state->broker_address.empty()) {
    status.list_status = absl::UnavailableError("the broker is not running");
    return status;
  }
  BrokerProbe probe(state->broker_address, token);
  status.broker_serving = probe.Serving(timeout);
  absl::StatusOr<std::vector<v1::AgentInfo>> listed = probe.ListAgents(timeout);
  status.list_status = listed.status();
  if (listed.ok()) {
    std::map<std::string, v1::AgentInfo> by_id;
    for (v1::AgentInfo& info : *listed) by_id[info.agent_id()] = std::move(info);
    for (MemberStatus& a : status.agents) {
      auto it = by_id.find(a.member.name);
      if (it != by_id.end()) a.agent = it->second;
    }
  }
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
    // `fleet up` stops the agents, then the broker, each within the stop timeout (plus
    // up to 5 s after a SIGKILL).
    const absl::Duration budget = 2 * (member_timeout + absl::Seconds(5)) + absl::Seconds(5);
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
  // Whatever `fleet up` did not stop (it died, or was killed above): agents, then broker.
  for (const MemberState& agent : state->agents) {
    if (IsRunning(agent.process)) result.was_running = true;
    StopProcess(agent, member_timeout, &result);
  }
  if (IsRunning(state->broker.process)) result.was_running = true;
  StopProcess(state->broker, member_timeout, &result);
  result.up_exit_code = state->exit_code;
  if (state->phase != "stopped") {
    state->phase = "stopped";
    if (absl::Status s = WriteState(*state, path); !s.ok()) result.notes.push_back(s.ToString());
  }
  return result;
}

}  // namespace latentbus::fleet
