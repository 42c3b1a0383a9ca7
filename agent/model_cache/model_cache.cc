#include "agent/model_cache/model_cache.h"

#include <cstdlib>

namespace latentbus::agent {

std::string ModelCacheDir() {
  if (const char* dir = std::getenv("LATENTBUS_MODEL_DIR"); dir != nullptr && *dir != '\0') {
    return dir;
  }
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr && *home != '\0' ? home : "/root") +
         "/.cache/latentbus/models";
}

std::string ModelCachePath(const std::string& file) { return ModelCacheDir() + "/" + file; }

}  // namespace latentbus::agent
