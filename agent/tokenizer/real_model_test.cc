// The tokenizers of the two real models, built from their GGUF files with FromGguf, against the
// Hugging Face golden fixtures (testdata/*_golden.json), plus encode throughput on ~100 KB.
//
// Needs the models of scripts/fetch-models.sh in $LATENTBUS_MODEL_DIR (default
// ~/.cache/latentbus/models); fails, naming that script, when they are absent.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "agent/gguf/gguf_file.h"
#include "agent/model_cache/model_cache.h"
#include "agent/tokenizer/chat_template.h"
#include "agent/tokenizer/gguf_tokenizer.h"
#include "agent/tokenizer/golden_test_util.h"
#include "gtest/gtest.h"

namespace latentbus::agent::tokenizer {
namespace {

using testing::ExpectChatMatchesGolden;
using testing::ExpectMatchesGolden;
using testing::ExpectSpansTile;
using testing::ReadFixture;

std::unique_ptr<Tokenizer> Load(const std::string& file) {
  const std::string path = agent::ModelCachePath(file);
  absl::StatusOr<std::unique_ptr<gguf::GgufFile>> gguf = gguf::GgufFile::Open(path);
  if (!gguf.ok()) {
    ADD_FAILURE() << "cannot open " << path << ": " << gguf.status()
                  << "\nFetch the models with: bash scripts/fetch-models.sh "
                     "(LATENTBUS_MODEL_DIR selects the folder)";
    return nullptr;
  }
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = FromGguf(**gguf);
  if (!tokenizer.ok()) {
    ADD_FAILURE() << tokenizer.status();
    return nullptr;
  }
  return *std::move(tokenizer);
}

const std::unique_ptr<Tokenizer>& SmolLm2() {
  static const auto* tokenizer = new std::unique_ptr<Tokenizer>(Load(agent::kSmolLm2File));
  return *tokenizer;
}

const std::unique_ptr<Tokenizer>& Gemma3() {
  static const auto* tokenizer = new std::unique_ptr<Tokenizer>(Load(agent::kGemma3File));
  return *tokenizer;
}

TEST(SmolLm2Test, SpecFromGguf) {
  ASSERT_NE(SmolLm2(), nullptr);
  const TokenizerSpec& spec = SmolLm2()->spec();
  EXPECT_EQ(spec.kind, ModelKind::kByteLevelBpe);
  EXPECT_EQ(spec.pre_tokenizer, PreTokenizer::kGpt2Digits);
  EXPECT_EQ(spec.tokens.size(), 49152u);
  EXPECT_EQ(spec.merges.size(), 48900u);
  EXPECT_EQ(spec.bos_id, 1);
  EXPECT_EQ(spec.eos_id, 2);
  EXPECT_FALSE(spec.add_bos);
  EXPECT_TRUE(SmolLm2()->IsSpecial(*SmolLm2()->FindPiece("<|im_start|>")));
}

TEST(SmolLm2Test, MatchesHuggingFace) {
  ASSERT_NE(SmolLm2(), nullptr);
  ExpectMatchesGolden(*SmolLm2(), ReadFixture("smollm2_golden.json"));
}

TEST(SmolLm2Test, ChatTemplateMatchesHuggingFace) {
  ASSERT_NE(SmolLm2(), nullptr);
  absl::StatusOr<ChatTemplate> chat = ChatTemplate::ForSpec(SmolLm2()->spec());
  ASSERT_TRUE(chat.ok()) << chat.status();
  EXPECT_EQ(chat->family(), ChatFamily::kChatMl);
  EXPECT_EQ(chat->default_system(),
            "You are a helpful AI assistant named SmolLM, trained by Hugging Face");
  ExpectChatMatchesGolden(*SmolLm2(), ReadFixture("smollm2_golden.json"));
}

TEST(Gemma3Test, SpecFromGgufUndoesLlamaCppRewrites) {
  ASSERT_NE(Gemma3(), nullptr);
  const TokenizerSpec& spec = Gemma3()->spec();
  EXPECT_EQ(spec.kind, ModelKind::kSentencePieceBpe);
  EXPECT_EQ(spec.merge_order, SpmMergeOrder::kTokenId);
  EXPECT_EQ(spec.tokens.size(), 262144u);
  EXPECT_EQ(spec.tokens[138], "\xE2\x96\x81\xE2\x96\x81");  // was "  " in the file
  EXPECT_EQ(spec.types[138], TokenType::kNormal);
  EXPECT_EQ(spec.tokens[107], "\n");  // still a user-defined token
  EXPECT_EQ(spec.types[107], TokenType::kUserDefined);
  EXPECT_EQ(spec.bos_id, 2);
  EXPECT_EQ(spec.eos_id, 1);
  EXPECT_TRUE(spec.add_bos);
  EXPECT_FALSE(spec.add_space_prefix);
}

TEST(Gemma3Test, MatchesHuggingFace) {
  ASSERT_NE(Gemma3(), nullptr);
  ExpectMatchesGolden(*Gemma3(), ReadFixture("gemma3_golden.json"));
}

TEST(Gemma3Test, ChatTemplateMatchesHuggingFace) {
  ASSERT_NE(Gemma3(), nullptr);
  absl::StatusOr<ChatTemplate> chat = ChatTemplate::ForSpec(Gemma3()->spec());
  ASSERT_TRUE(chat.ok()) << chat.status();
  EXPECT_EQ(chat->family(), ChatFamily::kGemma);
  EXPECT_EQ(chat->end_of_turn(), "<end_of_turn>");
  ExpectChatMatchesGolden(*Gemma3(), ReadFixture("gemma3_golden.json"));
}

// ~100 KB of mixed text built from the fixture's texts (less those with bytes SmolLM2 drops).
std::string MixedText(size_t bytes) {
  nlohmann::json golden = ReadFixture("smollm2_golden.json");
  std::string text;
  while (text.size() < bytes) {
    for (const auto& c : golden.at("cases")) {
      if (!c.value("drops_bytes", false)) text += c.at("text").get<std::string>() + "\n";
    }
  }
  return text;
}

void EncodeTimed(const Tokenizer& tokenizer, const std::string& label, const std::string& text) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<Token> tokens = tokenizer.Encode(text);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ExpectSpansTile(text, tokens);
  auto decoded = tokenizer.Decode(tokenizer.EncodeToIds(text));
  ASSERT_TRUE(decoded.ok());
  // Byte-level BPE decodes to exactly its input (these texts use no byte the vocabulary
  // lacks); SentencePiece-style decoding turns a literal U+2581 into a space.
  if (tokenizer.spec().kind == ModelKind::kByteLevelBpe) {
    EXPECT_EQ(*decoded, text) << label;
  }
  std::printf("[ throughput ] %-10s %-22s %7zu bytes -> %6zu tokens in %7.2f ms (%6.2f MB/s)\n",
              tokenizer.spec().kind == ModelKind::kByteLevelBpe ? "smollm2" : "gemma3",
              label.c_str(), text.size(), tokens.size(), seconds * 1e3,
              text.size() / seconds / 1e6);
}

// Not a timing assertion: these must finish (quickly: the merges are O(n log n)) and tile.
TEST(LongInputTest, HundredKilobytes) {
  ASSERT_NE(SmolLm2(), nullptr);
  ASSERT_NE(Gemma3(), nullptr);
  const std::string mixed = MixedText(100 * 1024);
  const std::string one_word(100 * 1024, 'a');
  const std::string spaces(100 * 1024, ' ');
  std::string digits;
  while (digits.size() < 100 * 1024) digits += "31415926535897932384626433832795028841971 ";
  for (const Tokenizer* t : {SmolLm2().get(), Gemma3().get()}) {
    EncodeTimed(*t, "mixed", mixed);
    EncodeTimed(*t, "one 100KB word", one_word);
    EncodeTimed(*t, "100KB of spaces", spaces);
    EncodeTimed(*t, "digits", digits);
  }
}

}  // namespace
}  // namespace latentbus::agent::tokenizer
