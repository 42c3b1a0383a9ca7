#include "agent/tokenizer/chat_template.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agent/tokenizer/unicode_tables.h"
#include "agent/tokenizer/utf8.h"

namespace latentbus::agent::tokenizer {
namespace {

// Jinja's `trim`: Python's str.strip(), which removes str.isspace() characters.
absl::string_view PythonStrip(absl::string_view s) {
  size_t begin = 0;
  while (begin < s.size()) {
    char32_t cp;
    const size_t len = DecodeUtf8(s, begin, &cp);
    if (cp == kInvalidCodepoint || !IsPythonSpace(cp)) break;
    begin += len;
  }
  size_t end = s.size();
  while (end > begin) {
    // Step back to the start of the last character.
    size_t start = end - 1;
    while (start > begin && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    char32_t cp;
    const size_t len = DecodeUtf8(s, start, &cp);
    if (start + len != end || cp == kInvalidCodepoint || !IsPythonSpace(cp)) break;
    end = start;
  }
  return s.substr(begin, end - begin);
}

// The default system prompt of a ChatML template such as SmolLM2's:
//   {% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\n...<|im_end|>\n'
//   }}
// The string literal may hold a real newline or the escape "\n".
std::string DefaultSystemPrompt(absl::string_view tmpl) {
  if (!absl::StrContains(tmpl, "!= 'system'")) return "";
  for (absl::string_view open :
       {absl::string_view("<|im_start|>system\n"), absl::string_view("<|im_start|>system\\n")}) {
    const size_t at = tmpl.find(open);
    if (at == absl::string_view::npos) continue;
    const size_t begin = at + open.size();
    const size_t end = tmpl.find("<|im_end|>", begin);
    if (end == absl::string_view::npos) return "";
    return std::string(tmpl.substr(begin, end - begin));
  }
  return "";
}

}  // namespace

absl::StatusOr<ChatTemplate> ChatTemplate::ForSpec(const TokenizerSpec& spec) {
  const std::string& tmpl = spec.chat_template;
  std::string bos = spec.bos_id >= 0 ? spec.tokens[spec.bos_id] : "";
  if (!tmpl.empty()) {
    if (absl::StrContains(tmpl, "<|im_start|>")) return ChatMl(DefaultSystemPrompt(tmpl));
    if (absl::StrContains(tmpl, "<start_of_turn>")) return Gemma(std::move(bos));
    return absl::UnimplementedError(
        absl::StrCat(spec.name, ": chat template of an unsupported family"));
  }
  if (absl::StartsWith(spec.architecture, "gemma")) return Gemma(std::move(bos));
  return absl::UnimplementedError(
      absl::StrCat(spec.name, ": no chat template and no known family for architecture \"",
                   spec.architecture, "\""));
}

ChatTemplate ChatTemplate::ChatMl(std::string default_system) {
  return ChatTemplate(ChatFamily::kChatMl, std::move(default_system), "");
}

ChatTemplate ChatTemplate::Gemma(std::string bos_text) {
  return ChatTemplate(ChatFamily::kGemma, "", std::move(bos_text));
}

absl::string_view ChatTemplate::end_of_turn() const {
  return family_ == ChatFamily::kChatMl ? "<|im_end|>" : "<end_of_turn>";
}

absl::StatusOr<std::string> ChatTemplate::Render(absl::Span<const ChatMessage> messages,
                                                 bool add_generation_prompt) const {
  std::string out;
  if (family_ == ChatFamily::kChatMl) {
    for (size_t i = 0; i < messages.size(); ++i) {
      if (i == 0 && messages[0].role != "system" && !default_system_.empty()) {
        absl::StrAppend(&out, "<|im_start|>system\n", default_system_, "<|im_end|>\n");
      }
      absl::StrAppend(&out, "<|im_start|>", messages[i].role, "\n", messages[i].content,
                      "<|im_end|>\n");
    }
    if (add_generation_prompt) out += "<|im_start|>assistant\n";
    return out;
  }

  out = bos_text_;
  std::string prefix;
  absl::Span<const ChatMessage> turns = messages;
  if (!messages.empty() && messages[0].role == "system") {
    prefix = messages[0].content + "\n\n";
    turns = messages.subspan(1);
  }
  for (size_t i = 0; i < turns.size(); ++i) {
    if ((turns[i].role == "user") != (i % 2 == 0)) {
      return absl::InvalidArgumentError(
          "Conversation roles must alternate user/assistant/user/assistant/...");
    }
    const std::string& role = turns[i].role == "assistant" ? "model" : turns[i].role;
    absl::StrAppend(&out, "<start_of_turn>", role, "\n", i == 0 ? prefix : "",
                    PythonStrip(turns[i].content), "<end_of_turn>\n");
  }
  if (add_generation_prompt) out += "<start_of_turn>model\n";
  return out;
}

}  // namespace latentbus::agent::tokenizer
