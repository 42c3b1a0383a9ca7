#include "deploy/fleet/fleet_state.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"

namespace latentbus::fleet {
namespace {

using nlohmann::json;

// /proc/PID/stat: "pid (comm) state ppid ... starttime(22) ...". comm may contain spaces
// and parentheses, so fields are counted from the last ')'.
std::optional<std::vector<std::string>> StatFields(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string text;
  if (!in || !std::getline(in, text)) return std::nullopt;
  const size_t close = text.rfind(')');
  if (close == std::string::npos || close + 2 > text.size()) return std::nullopt;
  // Field 3 (state) is the first after ") ".
  return absl::StrSplit(text.substr(close + 2), ' ', absl::SkipEmpty());
}

json ToJson(const ProcessId& p) { return {{"pid", p.pid}, {"start_time", p.start_time}}; }

ProcessId ProcessFromJson(const json& j) {
  return {j.at("pid").get<pid_t>(), j.at("start_time").get<uint64_t>()};
}

json ToJson(const MemberState& m) {
  return {{"name", m.name},
          {"process", ToJson(m.process)},
          {"ready_file", m.ready_file},
          {"address", m.address},
          {"monitor", m.monitor}};
}

MemberState MemberFromJson(const json& j) {
  return {j.at("name").get<std::string>(), ProcessFromJson(j.at("process")),
          j.at("ready_file").get<std::string>(), j.value("address", ""), j.value("monitor", "")};
}

json ToJson(const std::vector<MemberState>& members) {
  json out = json::array();
  for (const MemberState& m : members) out.push_back(ToJson(m));
  return out;
}

std::vector<MemberState> MembersFromJson(const json& j) {
  std::vector<MemberState> out;
  for (const json& m : j) out.push_back(MemberFromJson(m));
  return out;
}

}  // namespace

std::optional<uint64_t> ProcessStartTime(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  std::optional<std::vector<std::string>> fields = StatFields(pid);
  if (!fields || fields->size() < 20 || (*fields)[0] == "Z" || (*fields)[0] == "X") {
    return std::nullopt;
  }
  return std::strtoull((*fields)[19].c_str(), nullptr, 10);  // field 22 = index 19 after ')'
}

ProcessId Identify(pid_t pid) { return {pid, ProcessStartTime(pid).value_or(0)}; }

bool IsRunning(const ProcessId& id) {
  std::optional<uint64_t> start = ProcessStartTime(id.pid);
  return start && (id.start_time == 0 || *start == id.start_time);
}

std::string DefaultRunRoot() {
  if (const char* dir = std::getenv("LATENTBUS_FLEET_DIR"); dir && *dir) return dir;
  if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg && *xdg) {
    return absl::StrCat(xdg, "/latentbus-fleet");
  }
  return absl::StrCat("/tmp/latentbus-fleet-", getuid());
}

std::string StatePath(const std::string& run_dir) { return run_dir + "/state.json"; }

absl::Status WriteState(const FleetState& s, const std::string& path) {
  json j = {{"name", s.name},
            {"fleet_file", s.fleet_file},
            {"phase", s.phase},
            {"started_unix", s.started_unix},
            {"supervisor", ToJson(s.supervisor)},
            {"broker_address", s.broker_address},
            {"stop_timeout_seconds", s.stop_timeout_seconds},
            {"nats", ToJson(s.nats)},
            {"brokers", ToJson(s.brokers)},
            {"agents", ToJson(s.agents)}};
  if (s.exit_code) j["exit_code"] = *s.exit_code;
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump(2) << "\n";
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", tmp));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot replace ", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<FleetState> ReadState(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("no fleet state at ", path));
  std::ostringstream text;
  text << in.rdbuf();
  try {
    const json j = json::parse(text.str());
    FleetState s;
    s.name = j.at("name").get<std::string>();
    s.fleet_file = j.at("fleet_file").get<std::string>();
    s.phase = j.at("phase").get<std::string>();
    s.started_unix = j.at("started_unix").get<int64_t>();
    s.supervisor = ProcessFromJson(j.at("supervisor"));
    s.broker_address = j.at("broker_address").get<std::string>();
    s.stop_timeout_seconds = j.at("stop_timeout_seconds").get<double>();
    if (j.contains("brokers")) {
      s.brokers = MembersFromJson(j.at("brokers"));
    } else {  // one broker, its address and metrics listen beside it
      MemberState broker = MemberFromJson(j.at("broker"));
      broker.address = s.broker_address;
      broker.monitor = j.at("metrics_listen").get<std::string>();
      s.brokers.push_back(std::move(broker));
    }
    if (j.contains("nats")) s.nats = MembersFromJson(j.at("nats"));
    s.agents = MembersFromJson(j.at("agents"));
    if (j.contains("exit_code")) s.exit_code = j.at("exit_code").get<int>();
    return s;
  } catch (const json::exception& e) {
    return absl::DataLossError(absl::StrCat(path, ": not a fleet state file: ", e.what()));
  }
}

}  // namespace latentbus::fleet
