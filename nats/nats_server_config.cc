#include "nats/nats_server_config.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace latentbus::nats {
namespace {

// A double-quoted string in nats-server's configuration syntax.
std::string Quoted(const std::string& s) {
  return absl::StrCat("\"", absl::StrReplaceAll(s, {{"\\", "\\\\"}, {"\"", "\\\""}}), "\"");
}

}  // namespace

std::string NatsServerConfig(const NatsServerOptions& options, const std::string& store_dir) {
  std::string out;
  if (!options.server_name.empty()) {
    absl::StrAppend(&out, "server_name: ", Quoted(options.server_name), "\n");
  }
  absl::StrAppend(&out, "listen: 127.0.0.1:", options.port, "\n");
  absl::StrAppend(&out, "http: 127.0.0.1:", options.monitor_port, "\n");
  absl::StrAppend(&out, "max_payload: ", std::max<uint64_t>(options.max_payload, 1u << 20), "\n");
  if (options.jetstream) {
    absl::StrAppend(&out, "jetstream {\n  store_dir: ", Quoted(store_dir), "\n");
    if (options.sync_always) absl::StrAppend(&out, "  sync_interval: always\n");
    absl::StrAppend(&out, "}\n");
  }
  if (options.cluster) {
    absl::StrAppend(&out, "cluster {\n  name: ", Quoted(options.cluster->name),
                    "\n  listen: 127.0.0.1:", options.cluster->port, "\n  routes: [\n");
    for (const std::string& route : options.cluster->routes) {
      absl::StrAppend(&out, "    ", Quoted(route), "\n");
    }
    absl::StrAppend(&out, "  ]\n}\n");
  }
  return out;
}

}  // namespace latentbus::nats
