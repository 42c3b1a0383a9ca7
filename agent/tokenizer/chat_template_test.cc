#include "agent/tokenizer/chat_template.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace latentbus::agent::tokenizer {
namespace {

TEST(ChatTemplateTest, ChatMlWithDefaultSystemPrompt) {
  const ChatTemplate chat = ChatTemplate::ChatMl("Be nice.");
  EXPECT_EQ(*chat.Render({{"user", "Hi"}}, true),
            "<|im_start|>system\nBe nice.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
            "<|im_start|>assistant\n");
  EXPECT_EQ(*chat.Render({{"system", "S"}, {"user", " x "}}, false),
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\n x <|im_end|>\n");
  EXPECT_EQ(*chat.Render({}, true), "<|im_start|>assistant\n");
  EXPECT_EQ(chat.end_of_turn(), "<|im_end|>");
}

TEST(ChatTemplateTest, GemmaFoldsSystemTrimsAndRenamesAssistant) {
  const ChatTemplate chat = ChatTemplate::Gemma("<bos>");
  EXPECT_EQ(
      *chat.Render({{"system", " Sys "}, {"user", "\x1c\t Q \xE3\x80\x80"}, {"assistant", "A\n"}},
                   true),
      "<bos><start_of_turn>user\n Sys \n\nQ<end_of_turn>\n"
      "<start_of_turn>model\nA<end_of_turn>\n<start_of_turn>model\n");
  // U+200B is not whitespace for Python's strip().
  EXPECT_EQ(*chat.Render({{"user", "\xE2\x80\x8Bx"}}, false),
            "<bos><start_of_turn>user\n\xE2\x80\x8Bx<end_of_turn>\n");
}

TEST(ChatTemplateTest, GemmaRolesMustAlternate) {
  const ChatTemplate chat = ChatTemplate::Gemma("<bos>");
  EXPECT_EQ(chat.Render({{"user", "a"}, {"user", "b"}}, true).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(chat.Render({{"assistant", "a"}}, true).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Only "user" is checked: any other role passes at an odd position, as in the template.
  EXPECT_EQ(*chat.Render({{"user", "a"}, {"tool", "b"}}, false),
            "<bos><start_of_turn>user\na<end_of_turn>\n<start_of_turn>tool\nb<end_of_turn>\n");
}

TEST(ChatTemplateTest, ForSpecPicksTheFamily) {
  TokenizerSpec spec;
  spec.tokens = {"<bos>"};
  spec.bos_id = 0;
  spec.chat_template =
      "{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nHello "
      "there<|im_end|>\\n' }}{% endif %}";
  auto chatml = ChatTemplate::ForSpec(spec);
  ASSERT_TRUE(chatml.ok()) << chatml.status();
  EXPECT_EQ(chatml->family(), ChatFamily::kChatMl);
  EXPECT_EQ(chatml->default_system(), "Hello there");

  spec.chat_template = "{{ '<start_of_turn>' }}";
  EXPECT_EQ(ChatTemplate::ForSpec(spec)->family(), ChatFamily::kGemma);

  spec.chat_template = "";
  spec.architecture = "gemma3";
  auto gemma = ChatTemplate::ForSpec(spec);
  ASSERT_TRUE(gemma.ok());
  EXPECT_EQ(*gemma->Render({}, false), "<bos>");

  spec.architecture = "llama";
  EXPECT_EQ(ChatTemplate::ForSpec(spec).status().code(), absl::StatusCode::kUnimplemented);
  spec.chat_template = "[INST] {{ messages }} [/INST]";
  EXPECT_EQ(ChatTemplate::ForSpec(spec).status().code(), absl::StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace latentbus::agent::tokenizer
