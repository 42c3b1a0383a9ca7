#include "agent/llm/model_source.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/llm/fingerprint.h"
#include "agent/llm/safetensors_file.h"
#include "agent/tokenizer/gguf_tokenizer.h"
#include "agent/tokenizer/tokenizer_json.h"
#include "nlohmann/json.hpp"

namespace latentbus::agent::llm {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

absl::StatusOr<ModelSource> OpenGguf(const std::string& path) {
  ModelSource src;
  absl::StatusOr<std::unique_ptr<gguf::GgufFile>> file = gguf::GgufFile::Open(path);
  if (!file.ok()) return file.status();
  src.gguf = *std::move(file);
  absl::StatusOr<ModelConfig> config = ModelConfig::FromGguf(*src.gguf);
  if (!config.ok()) return config.status();
  src.config = *std::move(config);
  absl::StatusOr<tokenizer::TokenizerSpec> spec = tokenizer::SpecFromGguf(*src.gguf);
  if (!spec.ok()) return spec.status();
  src.tokenizer = *std::move(spec);
  src.fingerprint = GgufFingerprint(*src.gguf);
  src.weights = GgufWeights(*src.gguf);
  return src;
}

// A Hugging Face folder: config.json, model.safetensors or sharded
// model-*.safetensors (with model.safetensors.index.json), tokenizer.json.
absl::StatusOr<ModelSource> OpenHfFolder(const std::string& dir) {
  ModelSource src;
  absl::StatusOr<std::string> config_text = ReadFile(dir + "/config.json");
  if (!config_text.ok()) return config_text.status();
  absl::StatusOr<ModelConfig> config = ModelConfig::FromHfConfig(*config_text, dir);
  if (!config.ok()) return config.status();
  src.config = *std::move(config);
  std::vector<std::string> shard_names;
  if (std::filesystem::exists(dir + "/model.safetensors")) {
    shard_names.push_back("model.safetensors");
  } else {
    absl::StatusOr<std::string> index = ReadFile(dir + "/model.safetensors.index.json");
    if (!index.ok()) {
      return absl::NotFoundError(
          absl::StrCat(dir, ": neither model.safetensors nor model.safetensors.index.json"));
    }
    const nlohmann::json j = nlohmann::json::parse(*index, nullptr, false);
    if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(dir, ": malformed safetensors index"));
    }
    for (const auto& [name, file] : j["weight_map"].items()) {
      const std::string f = file.get<std::string>();
      if (f.find('/') != std::string::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat(dir, ": shard path ", f, " leaves the folder"));
      }
      if (std::find(shard_names.begin(), shard_names.end(), f) == shard_names.end()) {
        shard_names.push_back(f);
      }
    }
  }
  std::vector<std::unique_ptr<SafetensorsFile>> shards;
  for (const std::string& name : shard_names) {
    absl::StatusOr<std::unique_ptr<SafetensorsFile>> shard =
        SafetensorsFile::Open(dir + "/" + name);
    if (!shard.ok()) return shard.status();
    shards.push_back(*std::move(shard));
  }
  src.fingerprint = SafetensorsFingerprint(*config_text, shards);
  absl::StatusOr<tokenizer::TokenizerSpec> spec =
      tokenizer::SpecFromTokenizerJson(dir + "/tokenizer.json");
  if (!spec.ok()) return spec.status();
  src.tokenizer = *std::move(spec);
  if (src.tokenizer.architecture.empty()) {
    src.tokenizer.architecture = FamilyName(src.config.family);
  }
  src.weights = SafetensorsWeights(std::move(shards), src.config.family);
  return src;
}

}  // namespace

absl::StatusOr<ModelSource> OpenModelSource(const std::string& path) {
  return std::filesystem::is_directory(path) ? OpenHfFolder(path) : OpenGguf(path);
}

}  // namespace latentbus::agent::llm
