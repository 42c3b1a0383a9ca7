#include "agent/tokenizer/tokenizer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "agent/tokenizer/added_tokens.h"
#include "agent/tokenizer/byte_level_bpe.h"
#include "agent/tokenizer/model.h"
#include "agent/tokenizer/piece_index.h"
#include "agent/tokenizer/sentencepiece_bpe.h"

namespace latentbus::agent::tokenizer {

Tokenizer::Tokenizer(TokenizerSpec spec) : spec_(std::move(spec)) {}
Tokenizer::~Tokenizer() = default;

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::Create(TokenizerSpec spec) {
  if (absl::Status status = ValidateSpec(spec); !status.ok()) return status;
  std::unique_ptr<Tokenizer> tokenizer(new Tokenizer(std::move(spec)));
  const TokenizerSpec& s = tokenizer->spec_;
  switch (s.kind) {
    case ModelKind::kByteLevelBpe: {
      auto model = internal::ByteLevelBpe::Create(s);
      if (!model.ok()) return model.status();
      tokenizer->model_ = *std::move(model);
      break;
    }
    case ModelKind::kSentencePieceBpe: {
      auto model = internal::SentencePieceBpe::Create(s);
      if (!model.ok()) return model.status();
      tokenizer->model_ = *std::move(model);
      break;
    }
  }
  tokenizer->added_ = std::make_unique<internal::AddedTokenMatcher>();
  tokenizer->piece_to_id_ = std::make_unique<internal::PieceIndex>(&s.tokens);
  for (size_t id = 0; id < s.tokens.size(); ++id) {
    const TokenType type = TypeOf(s, id);
    if (type == TokenType::kControl || type == TokenType::kUserDefined) {
      tokenizer->added_->Add(s.tokens[id], static_cast<int32_t>(id), type == TokenType::kControl);
    }
  }
  return tokenizer;
}

std::vector<Token> Tokenizer::Encode(absl::string_view text, const EncodeOptions& options) const {
  std::vector<Token> tokens;
  tokens.reserve(text.size() / 3 + 2);
  if (options.add_special_tokens && spec_.add_bos) tokens.push_back(Token{spec_.bos_id, 0, 0});
  std::vector<internal::AddedTokenMatcher::Match> matches;
  added_->Find(text, options.parse_special, &matches);
  size_t pos = 0;
  for (const auto& m : matches) {
    if (pos < m.begin) model_->Encode(text.substr(pos, m.begin - pos), pos, pos == 0, &tokens);
    tokens.push_back(Token{m.id, m.begin, m.end});
    pos = m.end;
  }
  if (pos < text.size()) model_->Encode(text.substr(pos), pos, pos == 0, &tokens);
  if (options.add_special_tokens && spec_.add_eos) {
    tokens.push_back(Token{spec_.eos_id, text.size(), text.size()});
  }
  return tokens;
}

std::vector<int32_t> Tokenizer::EncodeToIds(absl::string_view text,
                                            const EncodeOptions& options) const {
  std::vector<Token> tokens = Encode(text, options);
  std::vector<int32_t> ids;
  ids.reserve(tokens.size());
  for (const Token& t : tokens) ids.push_back(t.id);
  return ids;
}

absl::StatusOr<std::string> Tokenizer::Decode(absl::Span<const int32_t> ids,
                                              const DecodeOptions& options) const {
  std::string text;
  for (size_t i = 0; i < ids.size(); ++i) {
    const int32_t id = ids[i];
    if (id < 0 || id >= vocab_size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("token id ", id, " at position ", i, " is outside [0, ", vocab_size(), ")"));
    }
    if (options.skip_special_tokens && IsSpecial(id)) continue;
    absl::StrAppend(&text, model_->TokenBytes(id));
  }
  return text;
}

absl::StatusOr<absl::string_view> Tokenizer::Piece(int32_t id) const {
  if (id < 0 || id >= vocab_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("token id ", id, " is outside [0, ", vocab_size(), ")"));
  }
  return absl::string_view(spec_.tokens[id]);
}

std::optional<int32_t> Tokenizer::FindPiece(absl::string_view piece) const {
  return piece_to_id_->Find(piece);
}

bool Tokenizer::IsSpecial(int32_t id) const {
  return id >= 0 && id < vocab_size() && TypeOf(spec_, id) == TokenType::kControl;
}

std::optional<int32_t> Tokenizer::bos_id() const {
  if (spec_.bos_id < 0) return std::nullopt;
  return spec_.bos_id;
}

std::optional<int32_t> Tokenizer::eos_id() const {
  if (spec_.eos_id < 0) return std::nullopt;
  return spec_.eos_id;
}

}  // namespace latentbus::agent::tokenizer
