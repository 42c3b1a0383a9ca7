// libFuzzer target: arbitrary bytes through the two small tokenizers of testdata/ (a
// byte-level BPE and a byte-fallback SentencePiece-style BPE, both with every byte in their
// vocabulary). The first input byte picks the tokenizer and the options; the rest is the text.
// Invariants beyond "no crash, no sanitizer report":
//   * spans are non-empty and tile the text exactly (BOS/EOS from add_special_tokens: empty,
//     at the ends);
//   * Decode(Encode(x)) == x (for the SentencePiece-style one, with "▁" read as a space), for
//     valid and invalid UTF-8 alike;
//   * Decode refuses an id outside the vocabulary.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_replace.h"
#include "agent/tokenizer/tokenizer.h"
#include "agent/tokenizer/tokenizer_json.h"

namespace {

using latentbus::agent::tokenizer::EncodeOptions;
using latentbus::agent::tokenizer::FromTokenizerJson;
using latentbus::agent::tokenizer::Token;
using latentbus::agent::tokenizer::Tokenizer;

const Tokenizer& Load(const char* file) {
  auto t = FromTokenizerJson(std::string(LATENTBUS_TOKENIZER_TESTDATA) + "/" + file);
  if (!t.ok()) std::abort();
  return *t->release();  // lives for the whole run
}

void Check(const Tokenizer& tokenizer, const std::string& text, uint8_t flags, bool spm) {
  EncodeOptions options;
  options.add_special_tokens = flags & 2;
  options.parse_special = flags & 4;
  const std::vector<Token> tokens = tokenizer.Encode(text, options);
  std::vector<int32_t> ids;
  size_t at = 0;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const Token& t = tokens[i];
    if (t.id < 0 || t.id >= tokenizer.vocab_size()) std::abort();
    const bool added =
        options.add_special_tokens && t.begin == t.end &&
        ((i == 0 && t.id == tokenizer.spec().bos_id && t.begin == 0) ||
         (i + 1 == tokens.size() && t.id == tokenizer.spec().eos_id && t.begin == text.size()));
    if (added) continue;
    if (t.begin != at || t.end <= t.begin || t.end > text.size()) std::abort();
    at = t.end;
    ids.push_back(t.id);
  }
  if (at != text.size()) std::abort();
  auto decoded = tokenizer.Decode(ids);
  if (!decoded.ok()) std::abort();
  const std::string want = spm ? absl::StrReplaceAll(text, {{"\xE2\x96\x81", " "}}) : text;
  if (*decoded != want) std::abort();
  if (tokenizer.Decode({tokenizer.vocab_size()}).ok()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Tokenizer& byte_level = Load("tiny_bytelevel.tokenizer.json");
  static const Tokenizer& spm = Load("tiny_spm.tokenizer.json");
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  if (flags & 1) {
    Check(spm, text, flags, true);
  } else {
    Check(byte_level, text, flags, false);
  }
  return 0;
}
