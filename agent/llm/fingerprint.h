// Model identity: a stable id from the file name and a fingerprint of the weights'
// metadata (all GGUF key/values and the tensor table), equal across runs and loads.
#ifndef LATENTBUS_AGENT_LLM_FINGERPRINT_H_
#define LATENTBUS_AGENT_LLM_FINGERPRINT_H_

#include <memory>
#include <string>
#include <vector>

#include "agent/gguf/gguf_file.h"
#include "agent/llm/safetensors_file.h"

namespace latentbus::agent::llm {

// 16 hex digits of XXH3-64 over a canonical rendering of the metadata (in file order)
// and of every tensor's name, type, dims and offset. Any change to a tensor's layout
// or to the metadata changes it; the tensor bytes are not read (cheap for big files).
std::string GgufFingerprint(const gguf::GgufFile& file);

// The same for a Hugging Face checkpoint: config.json's text and every shard's tensor
// table (names, dtypes, shapes, byte ranges).
std::string SafetensorsFingerprint(const std::string& config_json,
                                   const std::vector<std::unique_ptr<SafetensorsFile>>& shards);

// "SmolLM2-135M-Instruct.Q4_1.gguf" -> "smollm2-135m-instruct-q4_1".
std::string ModelIdFromPath(const std::string& path);

}  // namespace latentbus::agent::llm

#endif  // LATENTBUS_AGENT_LLM_FINGERPRINT_H_
