#include "agent/tokenizer/gguf_tokenizer.h"

#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agent/tokenizer/unicode_tables.h"
#include "agent/tokenizer/utf8.h"

namespace latentbus::agent::tokenizer {
namespace {

using gguf::GgufFile;
using gguf::Value;
using gguf::ValueType;

constexpr absl::string_view kSpaceMarker = "\xE2\x96\x81";

absl::Status Invalid(const GgufFile& file, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(file.path(), ": ", what));
}

absl::StatusOr<const Value*> FindArray(const GgufFile& file, absl::string_view key, bool required) {
  const Value* v = file.Find(key);
  if (v == nullptr) {
    if (required) return Invalid(file, absl::StrCat("no ", key));
    return nullptr;
  }
  if (v->type != ValueType::kArray) return Invalid(file, absl::StrCat(key, " is not an array"));
  return v;
}

absl::StatusOr<bool> BoolOr(const GgufFile& file, absl::string_view key, bool fallback) {
  if (file.Find(key) == nullptr) return fallback;
  return file.GetBool(key);
}

absl::StatusOr<int32_t> IdOr(const GgufFile& file, absl::string_view key) {
  absl::StatusOr<int64_t> id = file.GetIntOr(key, -1);
  if (!id.ok()) return id.status();
  if (*id < -1 || *id > INT32_MAX) return Invalid(file, absl::StrCat(key, " = ", *id));
  return static_cast<int32_t>(*id);
}

// A token made only of whitespace (Python's str.isspace) that contains a space.
bool IsSpaceRun(absl::string_view piece, size_t* codepoints) {
  if (piece.find(' ') == absl::string_view::npos) return false;
  *codepoints = 0;
  for (size_t pos = 0; pos < piece.size(); ++*codepoints) {
    char32_t cp;
    pos += DecodeUtf8(piece, pos, &cp);
    if (cp == kInvalidCodepoint || !IsPythonSpace(cp)) return false;
  }
  return true;
}

bool IsGemma(absl::string_view architecture) {
  return architecture == "gemma" || architecture == "gemma2" || architecture == "gemma3";
}

absl::StatusOr<PreTokenizer> PreTokenizerFor(const GgufFile& file, absl::string_view pre) {
  if (pre == "gpt2") return PreTokenizer::kGpt2;
  if (pre == "smollm" || pre == "starcoder" || pre == "refact" || pre == "codeshell") {
    return PreTokenizer::kGpt2Digits;
  }
  return absl::UnimplementedError(
      absl::StrCat(file.path(), ": unsupported pre-tokenizer tokenizer.ggml.pre=\"", pre, "\""));
}

}  // namespace

absl::StatusOr<TokenizerSpec> SpecFromGguf(const GgufFile& file) {
  TokenizerSpec spec;
  spec.name = file.path();
  absl::StatusOr<std::string> model = file.GetString("tokenizer.ggml.model");
  if (!model.ok()) return model.status();
  absl::StatusOr<std::string> arch = file.GetString("general.architecture");
  if (arch.ok()) spec.architecture = *arch;
  if (file.Find("tokenizer.chat_template") != nullptr) {
    absl::StatusOr<std::string> tmpl = file.GetString("tokenizer.chat_template");
    if (!tmpl.ok()) return tmpl.status();
    spec.chat_template = *tmpl;
  }

  absl::StatusOr<const Value*> tokens = FindArray(file, "tokenizer.ggml.tokens", true);
  if (!tokens.ok()) return tokens.status();
  if ((*tokens)->array_type != ValueType::kString) {
    return Invalid(file, "tokenizer.ggml.tokens is not a string array");
  }
  spec.tokens = (*tokens)->strings;
  const size_t n = spec.tokens.size();

  absl::StatusOr<const Value*> types = FindArray(file, "tokenizer.ggml.token_type", false);
  if (!types.ok()) return types.status();
  if (*types != nullptr) {
    if ((*types)->ints.size() != n) return Invalid(file, "token_type length != tokens length");
    spec.types.reserve(n);
    for (int64_t t : (*types)->ints) {
      if (t < 1 || t > 6) return Invalid(file, absl::StrCat("token type ", t));
      spec.types.push_back(static_cast<TokenType>(t));
    }
  }
  absl::StatusOr<const Value*> scores = FindArray(file, "tokenizer.ggml.scores", false);
  if (!scores.ok()) return scores.status();
  if (*scores != nullptr) {
    if ((*scores)->floats.size() != n) return Invalid(file, "scores length != tokens length");
    spec.scores.assign((*scores)->floats.begin(), (*scores)->floats.end());
  }

  for (auto [key, field] :
       {std::pair<const char*, int32_t*>{"tokenizer.ggml.bos_token_id", &spec.bos_id},
        {"tokenizer.ggml.eos_token_id", &spec.eos_id},
        {"tokenizer.ggml.unknown_token_id", &spec.unk_id},
        {"tokenizer.ggml.padding_token_id", &spec.pad_id}}) {
    absl::StatusOr<int32_t> id = IdOr(file, key);
    if (!id.ok()) return id.status();
    *field = *id;
  }

  const bool byte_level = *model == "gpt2";
  const bool sentencepiece = *model == "llama";
  if (!byte_level && !sentencepiece) {
    return absl::UnimplementedError(
        absl::StrCat(file.path(), ": unsupported tokenizer.ggml.model=\"", *model, "\""));
  }
  absl::StatusOr<bool> add_bos = BoolOr(file, "tokenizer.ggml.add_bos_token", sentencepiece);
  absl::StatusOr<bool> add_eos = BoolOr(file, "tokenizer.ggml.add_eos_token", false);
  absl::StatusOr<bool> prefix = BoolOr(file, "tokenizer.ggml.add_space_prefix", sentencepiece);
  if (!add_bos.ok()) return add_bos.status();
  if (!add_eos.ok()) return add_eos.status();
  if (!prefix.ok()) return prefix.status();
  spec.add_bos = *add_bos && spec.bos_id >= 0;
  spec.add_eos = *add_eos && spec.eos_id >= 0;

  if (byte_level) {
    spec.kind = ModelKind::kByteLevelBpe;
    absl::StatusOr<const Value*> merges = FindArray(file, "tokenizer.ggml.merges", true);
    if (!merges.ok()) return merges.status();
    spec.merges.reserve((*merges)->strings.size());
    for (const std::string& m : (*merges)->strings) {
      const size_t space = m.find(' ');
      if (space == std::string::npos) return Invalid(file, absl::StrCat("merge \"", m, "\""));
      spec.merges.emplace_back(m.substr(0, space), m.substr(space + 1));
    }
    absl::StatusOr<std::string> pre = file.GetString("tokenizer.ggml.pre");
    absl::StatusOr<PreTokenizer> kind = PreTokenizerFor(file, pre.ok() ? *pre : "gpt2");
    if (!kind.ok()) return kind.status();
    spec.pre_tokenizer = *kind;
    if (*prefix)
      return absl::UnimplementedError(absl::StrCat(file.path(),
                                                   ": add_space_prefix "
                                                   "on a byte-level vocabulary"));
    return spec;
  }

  spec.kind = ModelKind::kSentencePieceBpe;
  spec.byte_fallback = true;
  spec.add_space_prefix = *prefix;
  if (IsGemma(spec.architecture)) {
    // See the header: undo llama.cpp's rewrite of the whitespace tokens, rank by vocabulary order.
    spec.merge_order = SpmMergeOrder::kTokenId;
    for (size_t id = 0; id < n; ++id) {
      size_t codepoints = 0;
      if (TypeOf(spec, id) == TokenType::kUserDefined && IsSpaceRun(spec.tokens[id], &codepoints)) {
        std::string respelled;
        for (size_t i = 0; i < codepoints; ++i) absl::StrAppend(&respelled, kSpaceMarker);
        spec.tokens[id] = std::move(respelled);
        spec.types[id] = TokenType::kNormal;
      }
    }
  } else {
    if (spec.scores.size() != n) return Invalid(file, "no tokenizer.ggml.scores");
    spec.merge_order = SpmMergeOrder::kScore;
  }
  return spec;
}

absl::StatusOr<std::unique_ptr<Tokenizer>> FromGguf(const GgufFile& file) {
  absl::StatusOr<TokenizerSpec> spec = SpecFromGguf(file);
  if (!spec.ok()) return spec.status();
  return Tokenizer::Create(*std::move(spec));
}

}  // namespace latentbus::agent::tokenizer
