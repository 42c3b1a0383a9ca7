// Subcommand registration for the `latentbus` CLI. Each Register* function adds its
// subcommands to `app` and, when one of them is chosen, stores what to run in `*run`
// (which returns the process exit code).
#ifndef LATENTBUS_CLI_COMMANDS_H_
#define LATENTBUS_CLI_COMMANDS_H_

#include <functional>

#include "CLI/CLI.hpp"

namespace latentbus::cli {

using RunFn = std::function<int()>;

void RegisterCodecCommands(CLI::App& app, RunFn* run);
void RegisterBenchCommands(CLI::App& app, RunFn* run);
void RegisterModelCommands(CLI::App& app, RunFn* run);
void RegisterBrokerCommands(CLI::App& app, RunFn* run);
void RegisterBridgeCommands(CLI::App& app, RunFn* run);
void RegisterAgentCommands(CLI::App& app, RunFn* run);
void RegisterEvalCommands(CLI::App& app, RunFn* run);
void RegisterFleetCommands(CLI::App& app, RunFn* run);
void RegisterA2aCommand(CLI::App& app, RunFn* run);
// `bench e2e` and `bench bus`, under the `bench` command.
void RegisterBenchE2E(CLI::App* bench, RunFn* run);
void RegisterBenchBus(CLI::App* bench, RunFn* run);
// `bridge train`, under the `bridge` command.
void RegisterBridgeTrain(CLI::App* bridge, RunFn* run);

}  // namespace latentbus::cli

#endif  // LATENTBUS_CLI_COMMANDS_H_
