#include "agent/tokenizer/golden_test_util.h"

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_replace.h"
#include "agent/tokenizer/chat_template.h"
#include "gtest/gtest.h"

namespace latentbus::agent::tokenizer::testing {

using nlohmann::json;

json ReadFixture(const std::string& file) {
  const std::string path = std::string(LATENTBUS_TOKENIZER_TESTDATA) + "/" + file;
  std::ifstream in(path);
  if (!in) {
    ADD_FAILURE() << "cannot open " << path
                  << " (regenerate with scripts/fixtures/make_tokenizer_fixtures.py)";
    return json();
  }
  std::stringstream data;
  data << in.rdbuf();
  return json::parse(data.str());
}

void ExpectSpansTile(absl::string_view text, const std::vector<Token>& tokens) {
  size_t at = 0;
  for (size_t i = 0; i < tokens.size(); ++i) {
    ASSERT_EQ(tokens[i].begin, at)
        << "token " << i << " does not start where token " << i - 1 << " ends";
    ASSERT_LT(tokens[i].begin, tokens[i].end) << "token " << i << " is empty";
    at = tokens[i].end;
  }
  EXPECT_EQ(at, text.size()) << "tokens do not cover the text";
}

void ExpectSpansOrdered(absl::string_view text, const std::vector<Token>& tokens) {
  size_t at = 0;
  for (size_t i = 0; i < tokens.size(); ++i) {
    ASSERT_GE(tokens[i].begin, at) << "token " << i << " overlaps or precedes token " << i - 1;
    ASSERT_LT(tokens[i].begin, tokens[i].end) << "token " << i << " is empty";
    at = tokens[i].end;
  }
  EXPECT_LE(at, text.size());
}

namespace {

EncodeOptions Opts(bool add_special_tokens, bool parse_special) {
  EncodeOptions options;
  options.add_special_tokens = add_special_tokens;
  options.parse_special = parse_special;
  return options;
}

std::vector<int32_t> Ids(const json& ids) { return ids.get<std::vector<int32_t>>(); }

std::vector<Token> Tokens(const json& expected) {
  std::vector<Token> tokens;
  const json& ids = expected.at("ids");
  const json& spans = expected.at("spans");
  for (size_t i = 0; i < ids.size(); ++i) {
    tokens.push_back(
        Token{ids[i].get<int32_t>(), spans[i][0].get<size_t>(), spans[i][1].get<size_t>()});
  }
  return tokens;
}

std::string Describe(const Tokenizer& tokenizer, const std::vector<Token>& tokens) {
  std::string s;
  for (const Token& t : tokens) {
    auto piece = tokenizer.Piece(t.id);
    s += std::to_string(t.id) + ":" + (piece.ok() ? std::string(*piece) : "?") + "[" +
         std::to_string(t.begin) + "," + std::to_string(t.end) + ") ";
  }
  return s;
}

}  // namespace

void ExpectMatchesGolden(const Tokenizer& tokenizer, const json& golden) {
  ASSERT_TRUE(golden.contains("cases"));
  const bool spm = tokenizer.spec().kind == ModelKind::kSentencePieceBpe;
  ASSERT_FALSE(golden.at("cases").empty()) << "no cases in the fixture";
  for (const json& c : golden.at("cases")) {
    const std::string name = c.at("name").get<std::string>();
    const std::string text = c.at("text").get<std::string>();
    SCOPED_TRACE("case " + name);
    const std::vector<Token> plain = tokenizer.Encode(text, Opts(false, false));
    const std::vector<Token> want_plain = Tokens(c.at("plain"));
    EXPECT_EQ(plain, want_plain) << "\n got: " << Describe(tokenizer, plain)
                                 << "\nwant: " << Describe(tokenizer, want_plain);
    const std::vector<Token> special = tokenizer.Encode(text, Opts(false, true));
    const std::vector<Token> want_special =
        Tokens(c.contains("special") ? c["special"] : c["plain"]);
    EXPECT_EQ(special, want_special) << "\n got: " << Describe(tokenizer, special)
                                     << "\nwant: " << Describe(tokenizer, want_special);
    // Decode gives the text back ("▁" decodes as a space in SentencePiece vocabularies), and
    // the spans tile it, unless the vocabulary lacks a byte of the text (dropped, see
    // byte_level_bpe.h): then the spans must still be ordered and inside the text.
    const std::string expected_text =
        spm ? absl::StrReplaceAll(text, {{"\xE2\x96\x81", " "}}) : text;
    auto decoded = tokenizer.Decode(Ids(c.at("plain").at("ids")));
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    if (c.value("drops_bytes", false)) {
      EXPECT_LT(decoded->size(), expected_text.size());
      ExpectSpansOrdered(text, plain);
    } else {
      EXPECT_EQ(*decoded, expected_text);
      ExpectSpansTile(text, plain);
      ExpectSpansTile(text, special);
    }
  }
  ASSERT_FALSE(golden.at("with_special_tokens").empty()) << "no with_special_tokens in the fixture";
  for (const json& c : golden.at("with_special_tokens")) {
    SCOPED_TRACE("with special tokens: " + c.at("name").get<std::string>());
    const std::vector<Token> got =
        tokenizer.Encode(c.at("text").get<std::string>(), Opts(true, true));
    EXPECT_EQ(got, Tokens(c)) << Describe(tokenizer, got);
  }
}

void ExpectChatMatchesGolden(const Tokenizer& tokenizer, const json& golden) {
  absl::StatusOr<ChatTemplate> chat = ChatTemplate::ForSpec(tokenizer.spec());
  ASSERT_TRUE(chat.ok()) << chat.status();
  ASSERT_FALSE(golden.at("chat").empty()) << "no chat in the fixture";
  for (const json& c : golden.at("chat")) {
    SCOPED_TRACE("chat " + c.at("name").get<std::string>());
    std::vector<ChatMessage> messages;
    for (const json& m : c.at("messages")) {
      messages.push_back({m.at("role").get<std::string>(), m.at("content").get<std::string>()});
    }
    absl::StatusOr<std::string> text = chat->Render(messages, c.at("add_generation_prompt"));
    if (c.value("error", false)) {
      EXPECT_EQ(text.status().code(), absl::StatusCode::kInvalidArgument) << text.status();
      continue;
    }
    ASSERT_TRUE(text.ok()) << text.status();
    EXPECT_EQ(*text, c.at("text").get<std::string>());
    EXPECT_EQ(tokenizer.EncodeToIds(*text, Opts(false, true)), Ids(c.at("ids")));
  }
}

}  // namespace latentbus::agent::tokenizer::testing
