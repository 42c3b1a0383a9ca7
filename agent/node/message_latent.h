// What a sender's latent of a message holds: the model's hidden states of the text at the
// tap layer, without the BOS row (an attention sink with outsized norms, not content).
// One definition for the agent, the evaluations and bridge training.
//
// Thread safety: const use of the model; safe concurrently.
#ifndef LATENTBUS_AGENT_NODE_MESSAGE_LATENT_H_
#define LATENTBUS_AGENT_NODE_MESSAGE_LATENT_H_

#include <string>

#include "absl/status/statusor.h"
#include "agent/llm/model.h"
#include "codec/encoding.h"
#include "codec/tensor.h"

namespace latentbus::agent::node {

// [T, d] hidden states at `layer` (T counts the text's tokens; the BOS row is dropped when
// the model adds one and the text has tokens of its own).
absl::StatusOr<codec::Tensor> MessageHiddenStates(const llm::Model& model, const std::string& text,
                                                  int layer);

// MessageHiddenStates through the codec and back, as the receiver's side sees it.
absl::StatusOr<codec::Tensor> WireLatent(const llm::Model& model, const std::string& text,
                                         int layer, const codec::Encoding& encoding);

}  // namespace latentbus::agent::node

#endif  // LATENTBUS_AGENT_NODE_MESSAGE_LATENT_H_
