// What a model file or folder provides before its weights become tensors: the
// hyper-parameters, the tokenizer, the fingerprint and a reader of the weights.
// Internal to agent/llm (torch in the interface, through weight_source.h).
//
//   a GGUF file                  metadata, tokenizer and tensors from the one file
//   a Hugging Face folder        config.json, model.safetensors or sharded model-*.safetensors
//                                (model.safetensors.index.json), tokenizer.json
#ifndef LATENTBUS_AGENT_LLM_MODEL_SOURCE_H_
#define LATENTBUS_AGENT_LLM_MODEL_SOURCE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "agent/gguf/gguf_file.h"
#include "agent/llm/model_config.h"
#include "agent/llm/weight_source.h"
#include "agent/tokenizer/tokenizer_spec.h"

namespace latentbus::agent::llm {

struct ModelSource {
  ModelConfig config;
  tokenizer::TokenizerSpec tokenizer;
  std::string fingerprint;
  std::unique_ptr<gguf::GgufFile> gguf;  // keeps the mapping alive while loading
  std::unique_ptr<WeightSource> weights;
};

// Opens `path`: a folder is read as a Hugging Face checkpoint, anything else as GGUF.
// Errors name the file and what is wrong with it.
absl::StatusOr<ModelSource> OpenModelSource(const std::string& path);

}  // namespace latentbus::agent::llm

#endif  // LATENTBUS_AGENT_LLM_MODEL_SOURCE_H_
