#include "cli/model_path.h"

#include <filesystem>
#include <string>

#include "agent/model_cache/model_cache.h"

namespace latentbus::cli {

CLI::Validator ModelPath() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        std::error_code ec;
        if (std::filesystem::exists(value, ec)) return "";
        const bool bare = value.find('/') == std::string::npos;
        if (bare) {
          const std::string cached = agent::ModelCachePath(value);
          if (std::filesystem::exists(cached, ec)) {
            value = cached;
            return "";
          }
          return "no model '" + value + "' here nor in the model cache (" + agent::ModelCacheDir() +
                 "; scripts/fetch-models.sh fills it)";
        }
        return "no model at '" + value + "'";
      },
      "MODEL", "model path or cached model name");
}

}  // namespace latentbus::cli
