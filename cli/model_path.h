// The one way the CLI reads a model argument: a path (GGUF file or Hugging Face folder)
// as given, or a bare file name found in the model cache (agent/model_cache), as fleet
// files resolve theirs. `latentbus agent --model SmolLM2-135M-Instruct.Q4_1.gguf` works
// after scripts/fetch-models.sh.
#ifndef LATENTBUS_CLI_MODEL_PATH_H_
#define LATENTBUS_CLI_MODEL_PATH_H_

#include "CLI/CLI.hpp"

namespace latentbus::cli {

// Replaces a bare name by its path in the model cache when only the cache has it; an
// error naming both places when neither has it (exit code 2, like every usage error).
CLI::Validator ModelPath();

}  // namespace latentbus::cli

#endif  // LATENTBUS_CLI_MODEL_PATH_H_
