// build/bin/latentbus: one binary, one subcommand per job.
#include <iostream>
#include <memory>

#include "CLI/CLI.hpp"
#include "absl/synchronization/mutex.h"
#include "cli/commands.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

#ifndef LATENTBUS_VERSION
#define LATENTBUS_VERSION "dev"
#endif

int main(int argc, char** argv) {
  // Logs go to stderr (spdlog's default is stdout), as cli/README.md says: stdout is for
  // what a command produces (tables, --json), and `latentbus broker 2>log` must catch why
  // it stopped. Same format as the default logger (no name).
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "", std::make_shared<spdlog::sinks::stderr_color_sink_mt>()));
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
  latentbus::cli::RegisterA2aCommand(app, &run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version end here with 0; every usage error (unknown option, missing
    // or invalid value, no such model) with 2, as cli/README.md promises.
    app.exit(e);
    return e.get_exit_code() == 0 ? 0 : 2;
  }
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
