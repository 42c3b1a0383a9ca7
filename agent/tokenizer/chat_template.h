// Chat templates of the supported model families, written out in C++ (no Jinja engine).
//
//   kChatMl  (SmolLM2; Hugging Face's tokenizer.chat_template with <|im_start|>)
//            [<|im_start|>system\n{default system}<|im_end|>\n]   when the first message is
//                                                                  not a system message and the
//                                                                  template declares a default
//            <|im_start|>{role}\n{content}<|im_end|>\n           per message, verbatim
//            <|im_start|>assistant\n                             with add_generation_prompt
//   kGemma   (Gemma 3; google/gemma-3-*-it tokenizer_config.json)
//            {bos}                                        "<bos>"
//            a leading system message becomes a prefix "{system}\n\n" of the first turn;
//            <start_of_turn>{role}\n[{prefix}]{content, Python-strip()ped}<end_of_turn>\n
//            per message, "assistant" written as "model"; roles after the system message
//            must alternate user, assistant, user, ... (else InvalidArgument, as the template
//            raises); <start_of_turn>model\n with add_generation_prompt.
//
// The rendering is text; encode it with EncodeOptions::parse_special = true (and without
// add_special_tokens: the Gemma rendering already starts with "<bos>").
//
// Thread safety: immutable; Render is const and safe to call concurrently.
#ifndef LATENTBUS_AGENT_TOKENIZER_CHAT_TEMPLATE_H_
#define LATENTBUS_AGENT_TOKENIZER_CHAT_TEMPLATE_H_

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "agent/tokenizer/tokenizer_spec.h"

namespace latentbus::agent::tokenizer {

enum class ChatFamily { kChatMl, kGemma };

struct ChatMessage {
  std::string role;  // "system", "user", "assistant" (others are written as given)
  std::string content;
};

class ChatTemplate {
 public:
  // The family of a model: from its Jinja template when it has one (one containing
  // "<|im_start|>" is ChatML, its default system prompt taken from the template; one containing
  // "<start_of_turn>" is Gemma), else from the architecture ("gemma*": the Gemma 3 GGUF carries
  // no template). Unimplemented for anything else.
  static absl::StatusOr<ChatTemplate> ForSpec(const TokenizerSpec& spec);

  static ChatTemplate ChatMl(std::string default_system);
  static ChatTemplate Gemma(std::string bos_text);

  absl::StatusOr<std::string> Render(absl::Span<const ChatMessage> messages,
                                     bool add_generation_prompt) const;

  ChatFamily family() const { return family_; }
  // The control token that ends a model turn, for stop conditions: "<|im_end|>", "<end_of_turn>".
  absl::string_view end_of_turn() const;
  const std::string& default_system() const { return default_system_; }

 private:
  ChatTemplate(ChatFamily family, std::string default_system, std::string bos_text)
      : family_(family),
        default_system_(std::move(default_system)),
        bos_text_(std::move(bos_text)) {}

  ChatFamily family_;
  std::string default_system_;  // kChatMl
  std::string bos_text_;        // kGemma
};

}  // namespace latentbus::agent::tokenizer

#endif  // LATENTBUS_AGENT_TOKENIZER_CHAT_TEMPLATE_H_
