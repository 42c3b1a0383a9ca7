// Test helpers: reading the golden fixtures written by
// scripts/fixtures/make_tokenizer_fixtures.py and checking a tokenizer against them.
#ifndef LATENTBUS_AGENT_TOKENIZER_GOLDEN_TEST_UTIL_H_
#define LATENTBUS_AGENT_TOKENIZER_GOLDEN_TEST_UTIL_H_

#include <string>

#include "agent/tokenizer/tokenizer.h"
#include "nlohmann/json.hpp"

namespace latentbus::agent::tokenizer::testing {

// The parsed JSON of testdata/<file>; fails the test (and returns null) when unreadable.
nlohmann::json ReadFixture(const std::string& file);

// For every case: ids and spans with and without special-token parsing, with
// add_special_tokens, the spans' tiling, and Decode giving the text back.
void ExpectMatchesGolden(const Tokenizer& tokenizer, const nlohmann::json& golden);

// The chat renderings and their ids.
void ExpectChatMatchesGolden(const Tokenizer& tokenizer, const nlohmann::json& golden);

// Checks that the spans of the tokens of `text` tile it (add_special_tokens off).
void ExpectSpansTile(absl::string_view text, const std::vector<Token>& tokens);

// Checks that the spans are non-empty, ordered, non-overlapping and inside `text`.
void ExpectSpansOrdered(absl::string_view text, const std::vector<Token>& tokens);

}  // namespace latentbus::agent::tokenizer::testing

#endif  // LATENTBUS_AGENT_TOKENIZER_GOLDEN_TEST_UTIL_H_
