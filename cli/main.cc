// build/bin/latentbus: one binary, one subcommand per job.
#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/synchronization/mutex.h"
#include "cli/commands.h"

#ifndef LATENTBUS_VERSION
#define LATENTBUS_VERSION "dev"
#endif

int main(int argc, char** argv) {
  CLI::App app{
      "latentbus: a message bus for LLM agents that talk in quantized latent packets.\n"
      "Run `latentbus SUBCOMMAND --help` for each command's options."};
  app.set_version_flag("--version", LATENTBUS_VERSION);
  app.require_subcommand(1);
  latentbus::cli::RunFn run;
  latentbus::cli::RegisterCodecCommands(app, &run);
  latentbus::cli::RegisterModelCommands(app, &run);
  latentbus::cli::RegisterBenchCommands(app, &run);
  latentbus::cli::RegisterBrokerCommands(app, &run);
  latentbus::cli::RegisterBridgeCommands(app, &run);
  latentbus::cli::RegisterAgentCommands(app, &run);
  latentbus::cli::RegisterEvalCommands(app, &run);
  latentbus::cli::RegisterFleetCommands(app, &run);
  CLI11_PARSE(app, argc, argv);
  // Debian builds Abseil with Mutex deadlock detection on: every lock and unlock updates a
  // global lock-order graph (~5% of the broker's CPU under load in `perf`). The test
  // binaries keep it, so lock-order cycles still surface there; the shipped binary skips it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (!run) {
    std::cerr << app.help();
    return 2;
  }
  return run();
}
