#include "agent/tokenizer/utf8.h"

#include <string>

#include "gtest/gtest.h"

namespace latentbus::agent::tokenizer {
namespace {

struct Decoded {
  size_t len;
  char32_t cp;
};

Decoded At(const std::string& s, size_t pos = 0) {
  char32_t cp;
  const size_t len = DecodeUtf8(s, pos, &cp);
  return {len, cp};
}

TEST(Utf8Test, DecodesWellFormedSequences) {
  EXPECT_EQ(At("A").cp, U'A');
  EXPECT_EQ(At("\xC3\xA9").len, 2u);
  EXPECT_EQ(At("\xC3\xA9").cp, U'\u00E9');
  EXPECT_EQ(At("\xE2\x96\x81").cp, U'\u2581');
  EXPECT_EQ(At("\xF0\x9F\x98\x80").len, 4u);
  EXPECT_EQ(At("\xF0\x9F\x98\x80").cp, U'\U0001F600');
  EXPECT_EQ(At("\xF4\x8F\xBF\xBF").cp, U'\U0010FFFF');
  EXPECT_EQ(At("a\xC3\xA9", 1).cp, U'\u00E9');
}

TEST(Utf8Test, EveryIllFormedStartIsOneInvalidByte) {
  for (const std::string bad :
       {"\x80", "\xBF", "\xC0\x80", "\xC1\xBF", "\xE0\x80\x80", "\xED\xA0\x80" /* surrogate */,
        "\xF4\x90\x80\x80" /* > 10FFFF */, "\xF5\x80\x80\x80", "\xFF", "\xE2\x82" /* truncated */,
        "\xF0\x9F\x98" /* truncated */,
        "\xC3"
        "A"}) {
    SCOPED_TRACE(testing::PrintToString(bad));
    EXPECT_EQ(At(bad).len, 1u);
    EXPECT_EQ(At(bad).cp, kInvalidCodepoint);
    EXPECT_FALSE(IsValidUtf8(bad));
  }
}

TEST(Utf8Test, EncodeDecodeRoundTripOverAllScalarValues) {
  for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    std::string s;
    AppendUtf8(cp, &s);
    const Decoded d = At(s);
    ASSERT_EQ(d.len, s.size()) << cp;
    ASSERT_EQ(d.cp, cp);
  }
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("h\xC3\xA9llo \xF0\x9F\x98\x80"));
}

}  // namespace
}  // namespace latentbus::agent::tokenizer
