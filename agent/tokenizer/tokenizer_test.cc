// Behaviour of Tokenizer on small hand-made vocabularies: spans, added tokens, invalid UTF-8,
// errors. The Hugging Face comparisons are in tokenizer_json_test.cc and real_model_test.cc.
#include "agent/tokenizer/tokenizer.h"

#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "agent/tokenizer/byte_level_bpe.h"
#include "agent/tokenizer/utf8.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace latentbus::agent::tokenizer {

void PrintTo(const Token& t, std::ostream* os) {
  *os << "{" << t.id << " [" << t.begin << "," << t.end << ")}";
}

namespace {

using ::testing::ElementsAre;

std::string Spell(absl::string_view bytes) {
  std::string s;
  for (char c : bytes) AppendUtf8(internal::ByteToAlphabet(static_cast<uint8_t>(c)), &s);
  return s;
}

// Byte-level: the 256 byte tokens (ids 0..255), then "he", "ll", "hell", "hello", " w", then
// a control token "<|s|>", a user-defined "<u>", a control "<x>" and a user-defined "x>".
TokenizerSpec ByteLevelSpec() {
  TokenizerSpec spec;
  spec.kind = ModelKind::kByteLevelBpe;
  spec.name = "tiny";
  for (int b = 0; b < 256; ++b) spec.tokens.push_back(Spell(std::string(1, static_cast<char>(b))));
  for (const char* t : {"he", "ll", "hell", "hello", " w"}) spec.tokens.push_back(Spell(t));
  spec.merges = {{"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {Spell(" "), "w"}};
  for (const char* t : {"<|s|>", "<u>", "<x>", "x>"}) spec.tokens.push_back(t);
  spec.types.assign(spec.tokens.size(), TokenType::kNormal);
  spec.types[261] = TokenType::kControl;
  spec.types[262] = TokenType::kUserDefined;
  spec.types[263] = TokenType::kControl;
  spec.types[264] = TokenType::kUserDefined;
  spec.bos_id = 261;
  spec.eos_id = 261;
  return spec;
}

std::unique_ptr<Tokenizer> Make(TokenizerSpec spec) {
  auto t = Tokenizer::Create(std::move(spec));
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *std::move(t) : nullptr;
}

EncodeOptions Special() {
  EncodeOptions o;
  o.parse_special = true;
  return o;
}

TEST(TokenizerTest, MergesAndExactSpans) {
  auto t = Make(ByteLevelSpec());
  ASSERT_NE(t, nullptr);
  EXPECT_THAT(t->Encode("hello wo"),
              ElementsAre(Token{259, 0, 5}, Token{260, 5, 7}, Token{'o', 7, 8}));
  // A 4-byte character split into byte tokens: each covers exactly its own byte.
  EXPECT_THAT(t->Encode("\xF0\x9F\x98\x80"), ElementsAre(Token{0xF0, 0, 1}, Token{0x9F, 1, 2},
                                                         Token{0x98, 2, 3}, Token{0x80, 3, 4}));
  EXPECT_TRUE(t->Encode("").empty());
}

TEST(TokenizerTest, InvalidUtf8BecomesByteTokensAndRoundTrips) {
  auto t = Make(ByteLevelSpec());
  ASSERT_NE(t, nullptr);
  const std::string text = "a\xFF\xFE \xE2\x82 \xC0\x80z";
  std::vector<Token> tokens = t->Encode(text);
  size_t at = 0;
  for (const Token& tok : tokens) {
    EXPECT_EQ(tok.begin, at);
    at = tok.end;
  }
  EXPECT_EQ(at, text.size());
  EXPECT_EQ(*t->Decode(t->EncodeToIds(text)), text);
}

TEST(TokenizerTest, ControlTokensOnlyWhenAskedUserDefinedAlways) {
  auto t = Make(ByteLevelSpec());
  ASSERT_NE(t, nullptr);
  EXPECT_THAT(t->EncodeToIds("<|s|>"), ElementsAre('<', '|', 's', '|', '>'));
  EXPECT_THAT(t->Encode("a<|s|>", Special()), ElementsAre(Token{'a', 0, 1}, Token{261, 1, 6}));
  EXPECT_THAT(t->Encode("<u>a"), ElementsAre(Token{262, 0, 3}, Token{'a', 3, 4}));
  // A skipped control match hides the user-defined "x>" inside it, as in Hugging Face.
  EXPECT_THAT(t->EncodeToIds("<x>"), ElementsAre('<', 'x', '>'));
  EXPECT_THAT(t->EncodeToIds("<x>", Special()), ElementsAre(263));
  EXPECT_THAT(t->EncodeToIds("ax>"), ElementsAre('a', 264));
}

TEST(TokenizerTest, AddSpecialTokensHasEmptySpans) {
  TokenizerSpec spec = ByteLevelSpec();
  spec.add_bos = true;
  spec.add_eos = true;
  auto t = Make(std::move(spec));
  ASSERT_NE(t, nullptr);
  EncodeOptions o;
  o.add_special_tokens = true;
  EXPECT_THAT(t->Encode("ab", o),
              ElementsAre(Token{261, 0, 0}, Token{'a', 0, 1}, Token{'b', 1, 2}, Token{261, 2, 2}));
}

TEST(TokenizerTest, DecodeRejectsUnknownIdsAndSkipsSpecials) {
  auto t = Make(ByteLevelSpec());
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->Decode({'a', 265}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(t->Decode({-1}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*t->Decode({261, 259, 262}), "<|s|>hello<u>");
  DecodeOptions skip;
  skip.skip_special_tokens = true;
  EXPECT_EQ(*t->Decode({261, 259, 262}, skip), "hello<u>");
  EXPECT_EQ(t->Piece(300).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*t->FindPiece("<u>"), 262);
}

TEST(TokenizerTest, ByteWithoutTokenIsDroppedLikeHuggingFace) {
  TokenizerSpec spec = ByteLevelSpec();
  spec.tokens[4] = Spell("qq");  // byte 0x04 loses its token
  auto t = Make(std::move(spec));
  ASSERT_NE(t, nullptr);
  // Between words (0x04 is a word of its own for the GPT-2 pattern) it is in no span.
  EXPECT_THAT(t->Encode("h\x04"
                        "e x"),
              ElementsAre(Token{'h', 0, 1}, Token{'e', 2, 3}, Token{' ', 3, 4}, Token{'x', 4, 5}));
  EXPECT_THAT(t->Encode("a\x04"), ElementsAre(Token{'a', 0, 1}));
  // Inside a word its neighbours become adjacent and merge across it.
  TokenizerSpec one_word = ByteLevelSpec();
  one_word.tokens[4] = Spell("qq");
  one_word.pre_tokenizer = PreTokenizer::kNone;
  auto w = Make(std::move(one_word));
  ASSERT_NE(w, nullptr);
  EXPECT_THAT(w->Encode("h\x04"
                        "e"),
              ElementsAre(Token{256, 0, 3}));
}

TEST(TokenizerTest, CreateRejectsBadSpecs) {
  TokenizerSpec bad_merge = ByteLevelSpec();
  bad_merge.merges.push_back({"q", "zz"});
  EXPECT_EQ(Tokenizer::Create(bad_merge).status().code(), absl::StatusCode::kInvalidArgument);
  TokenizerSpec bad_scores = ByteLevelSpec();
  bad_scores.scores = {1.0f};
  EXPECT_EQ(Tokenizer::Create(bad_scores).status().code(), absl::StatusCode::kInvalidArgument);
  TokenizerSpec bad_bos = ByteLevelSpec();
  bad_bos.bos_id = 100000;
  EXPECT_EQ(Tokenizer::Create(bad_bos).status().code(), absl::StatusCode::kInvalidArgument);
  TokenizerSpec bad_piece = ByteLevelSpec();
  bad_piece.tokens[256] = "he";   // fine: 'h' and 'e' are in the alphabet
  bad_piece.tokens[257] = "l l";  // a raw space is not in the byte alphabet
  EXPECT_EQ(Tokenizer::Create(bad_piece).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Tokenizer::Create(TokenizerSpec()).status().code(), absl::StatusCode::kInvalidArgument);
}

// SentencePiece-style: "▁" (0), "a" (1), "b" (2), "▁a" (3), "ab" (4), "aba" (5), <unk> (6),
// then the 256 byte tokens (7..262).
TokenizerSpec SpmSpec(SpmMergeOrder order) {
  TokenizerSpec spec;
  spec.kind = ModelKind::kSentencePieceBpe;
  spec.name = "tiny-spm";
  spec.tokens = {"\xE2\x96\x81",
                 "a",
                 "b",
                 "\xE2\x96\x81"
                 "a",
                 "ab",
                 "aba",
                 "<unk>"};
  spec.scores = {0, 0, 0, -2, -1, -3, 0};
  for (int b = 0; b < 256; ++b) {
    spec.tokens.push_back(absl::StrFormat("<0x%02X>", b));
    spec.scores.push_back(0);
  }
  spec.unk_id = 6;
  spec.merge_order = order;
  return spec;
}

TEST(SentencePieceTest, SpacesAndByteFallbackHaveExactSpans) {
  auto t = Make(SpmSpec(SpmMergeOrder::kScore));
  ASSERT_NE(t, nullptr);
  // "ab" (score -1) merges before "▁a" (-2).
  EXPECT_THAT(t->Encode(" ab"), ElementsAre(Token{0, 0, 1}, Token{4, 1, 3}));
  EXPECT_THAT(t->Encode(" a"), ElementsAre(Token{3, 0, 2}));
  // U+00E9 is not in the vocabulary: two byte tokens, one byte each.
  EXPECT_THAT(t->Encode("\xC3\xA9"
                        "a"),
              ElementsAre(Token{7 + 0xC3, 0, 1}, Token{7 + 0xA9, 1, 2}, Token{1, 2, 3}));
  EXPECT_EQ(*t->Decode(t->EncodeToIds(" ab\xC3\xA9 \xFF")), " ab\xC3\xA9 \xFF");
}

TEST(SentencePieceTest, MergeOrders) {
  // By id, "▁a" (3) comes before "ab" (4).
  auto by_id = Make(SpmSpec(SpmMergeOrder::kTokenId));
  ASSERT_NE(by_id, nullptr);
  EXPECT_THAT(by_id->EncodeToIds(" ab"), ElementsAre(3, 2));
  // "aba" from "ab"+"a" (left longer) is ranked before "a"+"ba"; here only ab+a exists.
  auto by_score = Make(SpmSpec(SpmMergeOrder::kScore));
  ASSERT_NE(by_score, nullptr);
  EXPECT_THAT(by_score->EncodeToIds("aba"), ElementsAre(5));
}

TEST(SentencePieceTest, DummyPrefixAndUnknownsWithoutByteTokens) {
  TokenizerSpec spec = SpmSpec(SpmMergeOrder::kScore);
  spec.tokens.resize(7);
  spec.scores.resize(7);
  spec.add_space_prefix = true;
  auto t = Make(std::move(spec));
  ASSERT_NE(t, nullptr);
  // The prefix "▁" covers no input byte; consecutive unknown characters fuse into one <unk>.
  EXPECT_THAT(t->Encode("a\xC3\xA9\xE2\x82\xAC"
                        "b"),
              ElementsAre(Token{3, 0, 1}, Token{6, 1, 6}, Token{2, 6, 7}));
  TokenizerSpec no_space = SpmSpec(SpmMergeOrder::kScore);
  no_space.tokens[0] = "_";
  EXPECT_EQ(Tokenizer::Create(no_space).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(TokenizerTest, LongInputsAreLinearithmic) {
  // 1 MB of one letter: every merge level halves the symbols.
  TokenizerSpec spec = ByteLevelSpec();
  std::string piece = "a";
  for (int level = 0; level < 10; ++level) {
    spec.merges.push_back({Spell(piece), Spell(piece)});
    piece += piece;
    spec.tokens.push_back(Spell(piece));
    spec.types.push_back(TokenType::kNormal);
  }
  auto t = Make(std::move(spec));
  ASSERT_NE(t, nullptr);
  const std::string text(1 << 20, 'a');
  std::vector<Token> tokens = t->Encode(text);
  EXPECT_EQ(tokens.size(), text.size() / 1024);
  EXPECT_EQ(tokens.back().end, text.size());
}

TEST(TokenizerTest, ConcurrentEncodesAgree) {
  auto t = Make(ByteLevelSpec());
  ASSERT_NE(t, nullptr);
  const std::string text = "hello world <u> \xF0\x9F\x98\x80 hello";
  const std::vector<Token> want = t->Encode(text);
  std::vector<std::thread> threads;
  std::vector<int> same(4, 0);  // not vector<bool>: its elements share words
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      bool ok = true;
      for (int r = 0; r < 200; ++r) ok = ok && t->Encode(text) == want;
      same[i] = ok ? 1 : 0;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_THAT(same, ::testing::Each(1));
}

}  // namespace
}  // namespace latentbus::agent::tokenizer
