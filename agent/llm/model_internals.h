// In-process access to a loaded Model's torch internals, for code that trains against the
// frozen model (agent/llm/differentiable.h). Includes torch: never include it from a
// header that the broker, the SDK or the agent process include.
//
// Thread safety: as Model (const access to an immutable model).
#ifndef LATENTBUS_AGENT_LLM_MODEL_INTERNALS_H_
#define LATENTBUS_AGENT_LLM_MODEL_INTERNALS_H_

#include <torch/torch.h>

#include <vector>

#include "absl/status/statusor.h"
#include "agent/llm/model.h"
#include "agent/llm/transformer.h"

namespace latentbus::agent::llm {

struct ModelInternals {
  static const Transformer& transformer(const Model& model);
  static torch::Device device(const Model& model);
  // The prompt's input embeddings [T, d], exactly as Forward and Generate build them,
  // except that the i-th embedding segment's rows are soft[i] ([n, d], may require
  // gradients). InvalidArgument when the counts or widths disagree.
  static absl::StatusOr<torch::Tensor> PromptEmbeddings(const Model& model,
                                                        const std::vector<PromptSegment>& prompt,
                                                        bool add_bos,
                                                        const std::vector<torch::Tensor>& soft);
};

}  // namespace latentbus::agent::llm

#endif  // LATENTBUS_AGENT_LLM_MODEL_INTERNALS_H_
