// The receiver's prompt: how an agent reads a message, fixed and shared by the agent
// process and `latentbus eval`.
//
//   chat template( system: role,
//                  user:   primer + <message> + "\n" + instruction )  -> assistant turn
//
// <message> is either the received text, or the received soft tokens as an embedding
// segment spliced in place (rows in the receiver's input-embedding space), or nothing.
// The template's control tokens stay text segments (parse_special), so the model sees
// exactly what its own chat format would give it around the soft tokens.
//
// Thread safety: pure functions over a const Model.
#ifndef LATENTBUS_AGENT_NODE_PROMPT_H_
#define LATENTBUS_AGENT_NODE_PROMPT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/llm/model.h"
#include "codec/packet.h"
#include "codec/tensor.h"

namespace latentbus::agent::node {

inline constexpr char kDefaultPrimer[] = "A message from another agent:\n";

struct ReadPrompt {
  std::string role;                     // system text
  std::string primer = kDefaultPrimer;  // before the message
  std::string instruction;              // after the message
  std::optional<std::string> text;      // the message as text, or
  std::optional<codec::Tensor> soft;    // the message as soft tokens [T, d], or
  std::optional<codec::Packet> latent;  // as a packet of them (decoded by the runtime:
                                        // on a GPU, there)
  bool chat = true;                     // false: plain completion (no chat template)
};

// The segments for Model::Generate / Forward (use with add_bos = false: the chat text
// carries BOS where the template writes it; without chat, BOS is added as a token).
absl::StatusOr<std::vector<llm::PromptSegment>> BuildReadPrompt(const llm::Model& model,
                                                                const ReadPrompt& prompt);

// The sender's prompt for the text path: the model writes the message itself.
absl::StatusOr<std::vector<llm::PromptSegment>> BuildWritePrompt(const llm::Model& model,
                                                                 const std::string& role,
                                                                 const std::string& content);

}  // namespace latentbus::agent::node

#endif  // LATENTBUS_AGENT_NODE_PROMPT_H_
