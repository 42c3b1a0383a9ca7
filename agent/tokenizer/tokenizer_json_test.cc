#include "agent/tokenizer/tokenizer_json.h"

#include <string>

#include "agent/tokenizer/golden_test_util.h"
#include "gtest/gtest.h"

namespace latentbus::agent::tokenizer {
namespace {

using testing::ExpectMatchesGolden;
using testing::ReadFixture;

std::string TestData(const std::string& file) {
  return std::string(LATENTBUS_TOKENIZER_TESTDATA) + "/" + file;
}

// Small tokenizers trained by make_tokenizer_fixtures.py with Hugging Face `tokenizers`, loaded
// from their tokenizer.json and checked against that library's encodings.
TEST(TokenizerJsonTest, ByteLevelMatchesHuggingFace) {
  auto tokenizer = FromTokenizerJson(TestData("tiny_bytelevel.tokenizer.json"));
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  EXPECT_EQ((*tokenizer)->spec().kind, ModelKind::kByteLevelBpe);
  EXPECT_EQ((*tokenizer)->spec().pre_tokenizer, PreTokenizer::kGpt2Digits);
  ExpectMatchesGolden(**tokenizer, ReadFixture("tiny_golden.json")["bytelevel"]);
}

TEST(TokenizerJsonTest, SentencePieceStyleMatchesHuggingFace) {
  auto tokenizer = FromTokenizerJson(TestData("tiny_spm.tokenizer.json"));
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  const TokenizerSpec& spec = (*tokenizer)->spec();
  EXPECT_EQ(spec.kind, ModelKind::kSentencePieceBpe);
  EXPECT_TRUE(spec.add_bos);
  EXPECT_EQ(spec.bos_id, 2);
  EXPECT_EQ(spec.unk_id, 3);
  EXPECT_EQ(spec.types[4], TokenType::kControl);      // <start_of_turn>
  EXPECT_EQ(spec.types[6], TokenType::kUserDefined);  // "\n\n"
  EXPECT_EQ(spec.types[8], TokenType::kByte);         // <0x00>
  ExpectMatchesGolden(**tokenizer, ReadFixture("tiny_golden.json")["spm"]);
}

TEST(TokenizerJsonTest, MissingFileIsNotFound) {
  auto tokenizer = FromTokenizerJson(TestData("no_such.tokenizer.json"));
  EXPECT_EQ(tokenizer.status().code(), absl::StatusCode::kNotFound);
}

TEST(TokenizerJsonTest, MalformedJsonIsInvalidArgument) {
  EXPECT_EQ(SpecFromTokenizerJsonText("{\"model\": ", "t").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SpecFromTokenizerJsonText("[1, 2]", "t").status().code(),
            absl::StatusCode::kInvalidArgument);
  // A field of the wrong type.
  EXPECT_EQ(
      SpecFromTokenizerJsonText(R"({"model": {"type": "BPE", "vocab": []}})", "t").status().code(),
      absl::StatusCode::kInvalidArgument);
  // Ids with a hole.
  EXPECT_EQ(SpecFromTokenizerJsonText(
                R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 2}, "merges": []},
                    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false}})",
                "t")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(TokenizerJsonTest, UnsupportedComponentsAreUnimplemented) {
  const char* unigram = R"({"model": {"type": "Unigram", "vocab": []}})";
  EXPECT_EQ(SpecFromTokenizerJsonText(unigram, "t").status().code(),
            absl::StatusCode::kUnimplemented);
  const char* metaspace = R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
      "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first"}})";
  absl::Status status = SpecFromTokenizerJsonText(metaspace, "t").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(status.message().find("Metaspace"), absl::string_view::npos) << status;
  const char* lstrip = R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
      "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false},
      "added_tokens": [{"id": 1, "content": "<m>", "special": true, "lstrip": true}]})";
  EXPECT_EQ(SpecFromTokenizerJsonText(lstrip, "t").status().code(),
            absl::StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace latentbus::agent::tokenizer
