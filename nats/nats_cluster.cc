#include "nats/nats_cluster.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nats/loopback_ports.h"
#include "nats/nats_health.h"

namespace latentbus::nats {
namespace {

constexpr int kStartAttempts = 3;

}  // namespace

absl::StatusOr<std::unique_ptr<NatsCluster>> NatsCluster::Start(int n, NatsServerOptions node) {
  if (n < 1) return absl::InvalidArgumentError(absl::StrCat("a cluster of ", n, " nodes"));
  if (node.port != 0 || node.monitor_port != 0 || (node.cluster && node.cluster->port != 0)) {
    return absl::InvalidArgumentError(
        "NatsCluster picks every node's ports: leave port, monitor_port and cluster->port 0");
  }
  std::unique_ptr<NatsCluster> cluster(new NatsCluster());
  if (node.store_dir.empty()) {
    std::string dir =
        (std::filesystem::temp_directory_path() / "latentbus-nats-cluster-XXXXXX").string();
    if (mkdtemp(dir.data()) == nullptr) {
      return absl::UnavailableError(absl::StrCat("cannot create ", dir, ": ", strerror(errno)));
    }
    cluster->root_ = dir;
    cluster->owns_root_ = true;
  } else {
    cluster->root_ = node.store_dir;
  }
  absl::Status status;
  for (int attempt = 1; attempt <= kStartAttempts; ++attempt) {
    status = cluster->StartNodes(n, node);
    if (status.ok() || !LostPortRace(status)) break;
    cluster->nodes_.clear();
  }
  if (!status.ok()) return status;
  return cluster;
}

absl::Status NatsCluster::StartNodes(int n, const NatsServerOptions& node) {
  absl::StatusOr<std::vector<int>> ports = FreeLoopbackPorts(3 * n);
  if (!ports.ok()) return ports.status();
  // Node i: client port ports[3i], monitoring ports[3i+1], routes ports[3i+2].
  std::vector<std::string> routes;
  for (int i = 0; i < n; ++i) {
    routes.push_back(absl::StrCat("nats://127.0.0.1:", (*ports)[3 * i + 2]));
  }
  const std::string prefix = node.server_name.empty() ? "n" : node.server_name;
  for (int i = 0; i < n; ++i) {
    NatsServerOptions options = node;
    options.jetstream = true;
    options.server_name = absl::StrCat(prefix, i);
    options.port = (*ports)[3 * i];
    options.monitor_port = (*ports)[3 * i + 1];
    options.store_dir = absl::StrCat(root_, "/", options.server_name);
    if (!options.cluster) options.cluster.emplace();
    options.cluster->port = (*ports)[3 * i + 2];
    options.cluster->routes = routes;
    absl::StatusOr<std::unique_ptr<NatsServerProcess>> process =
        NatsServerProcess::Start(std::move(options));
    if (!process.ok()) return process.status();
    nodes_.push_back(std::move(*process));
  }
  return absl::OkStatus();
}

NatsCluster::~NatsCluster() {
  Stop();
  nodes_.clear();
  if (owns_root_) {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
}

std::string NatsCluster::urls() const {
  return absl::StrJoin(
      nodes_, ",", [](std::string* out, const auto& node) { absl::StrAppend(out, node->url()); });
}

absl::Status NatsCluster::WaitReady(absl::Duration timeout) {
  std::vector<NatsServerProcess*> nodes;
  for (const auto& node : nodes_) nodes.push_back(node.get());
  return WaitNatsReady(nodes, /*clustered=*/true, timeout);
}

void NatsCluster::Stop() {
  for (auto& node : nodes_) node->Stop();
}

}  // namespace latentbus::nats
