#include "agent/tokenizer/tokenizer_json.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace latentbus::agent::tokenizer {
namespace {

using nlohmann::json;

constexpr absl::string_view kSpaceMarker = "\xE2\x96\x81";

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::ostringstream data;
  data << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("cannot read ", path));
  return data.str();
}

std::string TypeName(const json& j) {
  if (j.is_null()) return "null";
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) return "<untyped>";
  return j["type"].get<std::string>();
}

bool IsByteLevel(const json& j) {
  return TypeName(j) == "ByteLevel" && !j.value("add_prefix_space", false) &&
         j.value("use_regex", true);
}

bool IsIndividualDigits(const json& j) {
  return TypeName(j) == "Digits" && j.value("individual_digits", false);
}

bool IsReplaceSpace(const json& j) {
  return TypeName(j) == "Replace" && j.contains("pattern") && j["pattern"].is_object() &&
         j["pattern"].value("String", "") == " " && j.value("content", "") == kSpaceMarker;
}

bool IsNoOpSpaceSplit(const json& j) {
  // Split(" ", merged_with_previous) after Replace(" " -> "▁") sees no spaces.
  return TypeName(j) == "Split" && j.contains("pattern") && j["pattern"].is_object() &&
         j["pattern"].value("String", "") == " " &&
         j.value("behavior", "") == "MergedWithPrevious" && !j.value("invert", false);
}

class Parser {
 public:
  explicit Parser(absl::string_view name) { spec_.name = std::string(name); }

  absl::StatusOr<TokenizerSpec> Parse(const json& root) {
    if (!root.is_object()) return Invalid("not a JSON object");
    if (absl::Status s = ParseModel(root.value("model", json())); !s.ok()) return s;
    if (absl::Status s = ParseKind(root); !s.ok()) return s;
    if (absl::Status s = ParseAddedTokens(root.value("added_tokens", json::array())); !s.ok()) {
      return s;
    }
    if (absl::Status s = BuildTokens(); !s.ok()) return s;
    if (absl::Status s = ParsePostProcessor(root.value("post_processor", json())); !s.ok()) {
      return s;
    }
    return std::move(spec_);
  }

 private:
  absl::Status Invalid(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(spec_.name, ": ", what));
  }
  absl::Status Unsupported(absl::string_view what) const {
    return absl::UnimplementedError(absl::StrCat(spec_.name, ": unsupported ", what));
  }

  absl::Status ParseModel(const json& model) {
    if (TypeName(model) != "BPE") return Unsupported(absl::StrCat("model ", TypeName(model)));
    if (!model.value("dropout", json()).is_null()) return Unsupported("BPE dropout");
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
      const json v = model.value(key, json());
      if (!v.is_null() && !(v.is_string() && v.get<std::string>().empty())) {
        return Unsupported(absl::StrCat("BPE ", key));
      }
    }
    if (model.value("ignore_merges", false)) return Unsupported("BPE ignore_merges");
    byte_fallback_ = model.value("byte_fallback", false);
    const json& vocab = model.at("vocab");
    if (!vocab.is_object()) return Invalid("model.vocab is not an object");
    for (const auto& [piece, id] : vocab.items()) {
      if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= INT32_MAX) {
        return Invalid(absl::StrCat("bad id for vocab entry \"", piece, "\""));
      }
      by_id_[static_cast<int32_t>(id.get<int64_t>())] = piece;
    }
    for (const json& m : model.value("merges", json::array())) {
      if (m.is_string()) {
        const std::string s = m.get<std::string>();
        const size_t space = s.find(' ');
        if (space == std::string::npos) return Invalid(absl::StrCat("merge \"", s, "\""));
        spec_.merges.emplace_back(s.substr(0, space), s.substr(space + 1));
      } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        spec_.merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
      } else {
        return Invalid("a merge is neither \"a b\" nor [\"a\", \"b\"]");
      }
    }
    const json unk = model.value("unk_token", json());
    if (unk.is_string()) unk_token_ = unk.get<std::string>();
    return absl::OkStatus();
  }

  absl::Status ParseKind(const json& root) {
    const json normalizer = root.value("normalizer", json());
    const json pre = root.value("pre_tokenizer", json());
    if (normalizer.is_null() && IsByteLevel(pre)) {
      spec_.kind = ModelKind::kByteLevelBpe;
      spec_.pre_tokenizer = PreTokenizer::kGpt2;
      return absl::OkStatus();
    }
    if (normalizer.is_null() && TypeName(pre) == "Sequence" && pre.contains("pretokenizers") &&
        pre["pretokenizers"].size() == 2 && IsIndividualDigits(pre["pretokenizers"][0]) &&
        IsByteLevel(pre["pretokenizers"][1])) {
      spec_.kind = ModelKind::kByteLevelBpe;
      spec_.pre_tokenizer = PreTokenizer::kGpt2Digits;
      return absl::OkStatus();
    }
    if (IsReplaceSpace(normalizer) && (pre.is_null() || IsNoOpSpaceSplit(pre))) {
      spec_.kind = ModelKind::kSentencePieceBpe;
      spec_.merge_order = SpmMergeOrder::kMergesList;
      spec_.byte_fallback = byte_fallback_;
      return absl::OkStatus();
    }
    return Unsupported(absl::StrCat("pipeline: normalizer ", TypeName(normalizer),
                                    ", pre_tokenizer ", TypeName(pre)));
  }

  absl::Status ParseAddedTokens(const json& added) {
    if (!added.is_array()) return Invalid("added_tokens is not an array");
    for (const json& t : added) {
      const int64_t id = t.at("id").get<int64_t>();
      const std::string content = t.at("content").get<std::string>();
      if (id < 0 || id >= INT32_MAX) return Invalid(absl::StrCat("added token id ", id));
      if (t.value("lstrip", false) || t.value("rstrip", false) || t.value("single_word", false)) {
        return Unsupported(
            absl::StrCat("added token \"", content, "\" with lstrip/rstrip/single_word"));
      }
      if (t.value("normalized", false) &&
          (content.find(' ') != std::string::npos || absl::StrContains(content, kSpaceMarker))) {
        return Unsupported(absl::StrCat("normalized added token \"", content, "\""));
      }
      auto it = by_id_.find(static_cast<int32_t>(id));
      if (it != by_id_.end() && it->second != content) {
        return Invalid(
            absl::StrCat("added token ", id, " \"", content, "\" vs vocab \"", it->second, "\""));
      }
      by_id_[static_cast<int32_t>(id)] = content;
      types_[static_cast<int32_t>(id)] =
          t.value("special", false) ? TokenType::kControl : TokenType::kUserDefined;
    }
    return absl::OkStatus();
  }

  absl::Status BuildTokens() {
    if (by_id_.empty()) return Invalid("empty vocabulary");
    int32_t max_id = 0;
    for (const auto& [id, piece] : by_id_) max_id = std::max(max_id, id);
    if (static_cast<size_t>(max_id) + 1 != by_id_.size()) {
      return Invalid(
          absl::StrCat("ids are not contiguous: ", by_id_.size(), " tokens, max id ", max_id));
    }
    spec_.tokens.resize(by_id_.size());
    spec_.types.assign(by_id_.size(), TokenType::kNormal);
    for (auto& [id, piece] : by_id_) {
      spec_.tokens[id] = std::move(piece);
      auto t = types_.find(id);
      if (t != types_.end()) spec_.types[id] = t->second;
    }
    for (size_t id = 0; id < spec_.tokens.size(); ++id) {
      const std::string& p = spec_.tokens[id];
      if (spec_.kind == ModelKind::kSentencePieceBpe && spec_.types[id] == TokenType::kNormal &&
          p.size() == 6 && p.compare(0, 3, "<0x") == 0 && p[5] == '>') {
        spec_.types[id] = TokenType::kByte;
      }
      if (!unk_token_.empty() && p == unk_token_) spec_.unk_id = static_cast<int32_t>(id);
    }
    return absl::OkStatus();
  }

  absl::Status ParsePostProcessor(const json& post) {
    const std::string type = TypeName(post);
    if (post.is_null() || type == "ByteLevel") return absl::OkStatus();
    if (type != "TemplateProcessing") return Unsupported(absl::StrCat("post_processor ", type));
    const json& single = post.at("single");
    if (!single.is_array() || single.empty()) return Invalid("TemplateProcessing.single");
    auto special_id = [&](const json& item, int32_t* id) -> bool {
      if (!item.is_object() || !item.contains("SpecialToken")) return false;
      const std::string name = item["SpecialToken"].at("id").get<std::string>();
      const json& ids = post.at("special_tokens").at(name).at("ids");
      if (ids.size() != 1) return false;
      *id = ids[0].get<int32_t>();
      return true;
    };
    int32_t id;
    size_t sequences = 0;
    for (size_t i = 0; i < single.size(); ++i) {
      if (single[i].is_object() && single[i].contains("Sequence")) {
        ++sequences;
      } else if (special_id(single[i], &id)) {
        if (i == 0) {
          spec_.add_bos = true;
          spec_.bos_id = id;
        } else if (i + 1 == single.size()) {
          spec_.add_eos = true;
          spec_.eos_id = id;
        } else {
          return Unsupported("TemplateProcessing with a special token between sequences");
        }
      } else {
        return Unsupported("TemplateProcessing item");
      }
    }
    if (sequences != 1) return Unsupported("TemplateProcessing without exactly one $A");
    return absl::OkStatus();
  }

  TokenizerSpec spec_;
  bool byte_fallback_ = false;
  std::string unk_token_;
  std::map<int32_t, std::string> by_id_;
  absl::flat_hash_map<int32_t, TokenType> types_;
};

// tokenizer_config.json's special tokens are either strings or {"content": ...}.
std::string ConfigToken(const json& config, const char* key) {
  if (!config.contains(key)) return "";
  const json& v = config[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) {
    return v["content"].get<std::string>();
  }
  return "";
}

}  // namespace

absl::StatusOr<TokenizerSpec> SpecFromTokenizerJsonText(absl::string_view json_text,
                                                        absl::string_view name) {
  json root = json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": not valid JSON"));
  }
  try {
    return Parser(name).Parse(root);
  } catch (const json::exception& e) {
    // A missing key or a value of the wrong type.
    return absl::InvalidArgumentError(absl::StrCat(name, ": ", e.what()));
  }
}

absl::StatusOr<TokenizerSpec> SpecFromTokenizerJson(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<TokenizerSpec> spec = SpecFromTokenizerJsonText(*text, path);
  if (!spec.ok()) return spec.status();
  const size_t slash = path.find_last_of('/');
  const std::string config_path =
      (slash == std::string::npos ? std::string() : path.substr(0, slash + 1)) +
      "tokenizer_config.json";
  absl::StatusOr<std::string> config_text = ReadFile(config_path);
  if (!config_text.ok()) return spec;  // optional
  json config = json::parse(*config_text, nullptr, /*allow_exceptions=*/false);
  if (!config.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(config_path, ": not a JSON object"));
  }
  auto find = [&](const std::string& piece) -> int32_t {
    for (size_t i = 0; i < spec->tokens.size(); ++i) {
      if (spec->tokens[i] == piece) return static_cast<int32_t>(i);
    }
    return -1;
  };
  const std::string bos = ConfigToken(config, "bos_token");
  const std::string eos = ConfigToken(config, "eos_token");
  if (!bos.empty() && spec->bos_id < 0) spec->bos_id = find(bos);
  if (!eos.empty() && spec->eos_id < 0) spec->eos_id = find(eos);
  if (config.contains("chat_template") && config["chat_template"].is_string()) {
    spec->chat_template = config["chat_template"].get<std::string>();
  }
  return spec;
}

absl::StatusOr<std::unique_ptr<Tokenizer>> FromTokenizerJson(const std::string& path) {
  absl::StatusOr<TokenizerSpec> spec = SpecFromTokenizerJson(path);
  if (!spec.ok()) return spec.status();
  return Tokenizer::Create(*std::move(spec));
}

}  // namespace latentbus::agent::tokenizer
