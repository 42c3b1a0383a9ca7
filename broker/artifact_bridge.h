// The broker's bridges from artifacts written by bridge/ (`latentbus bridge fit`): the
// BridgeLoader behind the LoadBridge RPC and the bridge directory loaded at start.
//
// An artifact names both models (id + weights fingerprint); the broker keys the bridge
// by them, so a packet is only ever translated by a bridge fitted for its exact models.
//
// Thread safety: the loader and the bridges it returns are safe for concurrent use.
#ifndef LATENTBUS_BROKER_ARTIFACT_BRIDGE_H_
#define LATENTBUS_BROKER_ARTIFACT_BRIDGE_H_

#include <string>

#include "absl/status/statusor.h"
#include "broker/bridge_registry.h"
#include "broker/config.h"

namespace latentbus::broker {

// Loads a LoadBridgeRequest's artifact: `path` on the broker's file system, or the
// uploaded `artifact` bytes, to translate with `kernels` (TranslationConfig::kernels,
// bridge/bridge_kernels.h) on `device` (TranslationConfig::device). InvalidArgument for
// an empty request or kernels this CPU cannot run; FailedPrecondition for a device this
// build or machine lacks; the artifact reader's error (naming the file) otherwise.
BridgeLoader ArtifactBridgeLoader(const std::string& kernels = "auto",
                                  const std::string& device = "cpu");

// Loads every "*.bridge" file of `dir` (sorted by name) into `registry`. Returns the
// number loaded; the first error names the file.
absl::StatusOr<int> LoadBridgeDirectory(const std::string& dir, BridgeRegistry* registry);

// Applies config.compute_threads (broker/config.h) to the libraries bridges compute with,
// process-wide (bridge::SetComputeThreads); 0 leaves their defaults. Call once at start,
// before the first translation. The translation pool's workers are the broker's
// parallelism: each runs its batch on `compute_threads` threads. Process-wide: not for a
// process that also runs an LLM (agent/), whose own thread count it would override.
void ApplyComputeThreads(const TranslationConfig& config);

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_ARTIFACT_BRIDGE_H_
