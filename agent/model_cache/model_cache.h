// The model cache: the folder scripts/fetch-models.sh downloads the real models into, and
// where tests, benchmarks and the fleet launcher look for them by default.
//
// Thread safety: reads the environment; no state of its own.
#ifndef LATENTBUS_AGENT_MODEL_CACHE_MODEL_CACHE_H_
#define LATENTBUS_AGENT_MODEL_CACHE_MODEL_CACHE_H_

#include <string>

namespace latentbus::agent {

// File names of the two real models in the cache.
inline constexpr char kSmolLm2File[] = "SmolLM2-135M-Instruct.Q4_1.gguf";
inline constexpr char kGemma3File[] = "gemma-3-270m-q4_k_m.gguf";

// $LATENTBUS_MODEL_DIR when set and not empty, else $HOME/.cache/latentbus/models (the
// same rule as scripts/fetch-models.sh; /root when HOME is unset).
std::string ModelCacheDir();

// ModelCacheDir() + "/" + file.
std::string ModelCachePath(const std::string& file);

}  // namespace latentbus::agent

#endif  // LATENTBUS_AGENT_MODEL_CACHE_MODEL_CACHE_H_
