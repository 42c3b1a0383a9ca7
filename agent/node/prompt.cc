#include "agent/node/prompt.h"

#include "absl/strings/str_cat.h"

namespace latentbus::agent::node {
namespace {

// Stands where the message goes; never produced by a tokenizer or a template.
constexpr absl::string_view kSlot = "\x01latentbus-message\x01";

}  // namespace

absl::StatusOr<std::vector<llm::PromptSegment>> BuildReadPrompt(const llm::Model& model,
                                                                const ReadPrompt& prompt) {
  if (prompt.text.has_value() + prompt.soft.has_value() + prompt.latent.has_value() > 1) {
    return absl::InvalidArgumentError(
        "a read prompt takes text, soft tokens or a latent packet, not several");
  }
  const std::vector<uint32_t>* soft_shape =
      prompt.soft.has_value() ? &prompt.soft->shape
                              : (prompt.latent.has_value() ? &prompt.latent->shape : nullptr);
  if (soft_shape != nullptr &&
      (soft_shape->size() != 2 ||
       (*soft_shape)[1] != static_cast<uint32_t>(model.info().embedding_size))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "soft tokens must be [T, ", model.info().embedding_size, "] for ", model.info().model_id));
  }
  const std::string user = absl::StrCat(prompt.primer, kSlot, "\n", prompt.instruction);
  std::string formatted;
  if (prompt.chat) {
    std::vector<std::pair<std::string, std::string>> messages;
    if (!prompt.role.empty()) messages.emplace_back("system", prompt.role);
    messages.emplace_back("user", user);
    absl::StatusOr<std::string> chat = model.ChatPrompt(messages);
    if (!chat.ok()) return chat.status();
    formatted = *std::move(chat);
  } else {
    formatted = prompt.role.empty() ? user : absl::StrCat(prompt.role, "\n", user);
  }
  const size_t at = formatted.find(kSlot.data(), 0, kSlot.size());
  if (at == std::string::npos) return absl::InternalError("the chat template dropped the message");
  std::vector<llm::PromptSegment> segments;
  if (!prompt.chat) {
    absl::StatusOr<llm::EncodeResult> bos = model.Tokenize("", /*add_bos=*/true);
    if (!bos.ok()) return bos.status();
    if (!bos->token_ids.empty()) segments.push_back(llm::PromptSegment::Tokens(bos->token_ids));
  }
  segments.push_back(llm::PromptSegment::Text(formatted.substr(0, at), prompt.chat));
  if (prompt.text.has_value()) {
    segments.push_back(llm::PromptSegment::Text(*prompt.text, /*parse_special=*/false));
  } else if (prompt.soft.has_value()) {
    segments.push_back(llm::PromptSegment::Embeddings(*prompt.soft));
  } else if (prompt.latent.has_value()) {
    segments.push_back(llm::PromptSegment::Latent(*prompt.latent));
  }
  segments.push_back(llm::PromptSegment::Text(formatted.substr(at + kSlot.size()), prompt.chat));
  return segments;
}

absl::StatusOr<std::vector<llm::PromptSegment>> BuildWritePrompt(const llm::Model& model,
                                                                 const std::string& role,
                                                                 const std::string& content) {
  std::vector<std::pair<std::string, std::string>> messages;
  if (!role.empty()) messages.emplace_back("system", role);
  messages.emplace_back("user", absl::StrCat("Pass this on to a colleague, briefly and in your "
                                             "own words:\n",
                                             content));
  absl::StatusOr<std::string> chat = model.ChatPrompt(messages);
  if (!chat.ok()) return chat.status();
  return std::vector<llm::PromptSegment>{llm::PromptSegment::Text(*std::move(chat), true)};
}

}  // namespace latentbus::agent::node
