#include "bridge/activation_file.h"

#include "absl/strings/str_cat.h"
#include "bridge/safetensors_io.h"
#include "nlohmann/json.hpp"

namespace latentbus::bridge {

int ActivationFile::LayerIndex(int layer) const {
  for (size_t i = 0; i < layers.size(); ++i) {
    if (layers[i] == layer) return static_cast<int>(i);
  }
  return -1;
}

absl::Status ActivationFile::Validate() const {
  const size_t n = texts.size();
  const size_t tokens = token_ids.size();
  const size_t w = static_cast<size_t>(width);
  if (splits.size() != n || offsets.size() != n + 1 || spans.size() != 2 * tokens) {
    return absl::DataLossError("activation file: item or token arrays disagree in size");
  }
  if (hidden.size() != layers.size()) return absl::DataLossError("activation file: layer count");
  for (const auto& h : hidden) {
    if (h.size() != tokens * w) return absl::DataLossError("activation file: hidden size");
  }
  if (embeddings.size() != tokens * w) return absl::DataLossError("activation file: embeddings");
  if (offsets[0] != 0 || offsets[n] != static_cast<int64_t>(tokens)) {
    return absl::DataLossError("activation file: offsets do not cover the tokens");
  }
  for (size_t i = 0; i < n; ++i) {
    if (offsets[i] > offsets[i + 1]) return absl::DataLossError("activation file: offsets");
    if (splits[i] != "train" && splits[i] != "heldout") {
      return absl::DataLossError(absl::StrCat("activation file: bad split ", splits[i]));
    }
    for (int64_t t = offsets[i]; t < offsets[i + 1]; ++t) {
      const uint32_t b = spans[2 * t], e = spans[2 * t + 1];
      if (b > e || e > texts[i].size()) return absl::DataLossError("activation file: span");
    }
  }
  return absl::OkStatus();
}

absl::Status WriteActivationFile(const std::string& path, const ActivationFile& file) {
  if (absl::Status s = file.Validate(); !s.ok()) return s;
  nlohmann::json meta = {{"format", "latentbus.activations"},
                         {"version", kActivationFormatVersion},
                         {"model_id", file.model_id},
                         {"fingerprint", file.fingerprint},
                         {"corpus", file.corpus},
                         {"corpus_hash", file.corpus_hash},
                         {"layers", file.layers},
                         {"width", file.width}};
  nlohmann::json items = nlohmann::json::array();
  for (size_t i = 0; i < file.texts.size(); ++i) {
    items.push_back({{"text", file.texts[i]}, {"split", file.splits[i]}});
  }
  meta["items"] = std::move(items);
  const int64_t tokens = static_cast<int64_t>(file.num_tokens());
  std::vector<TensorView> views;
  views.push_back(
      {"offsets", "I64", {static_cast<int64_t>(file.offsets.size())}, file.offsets.data()});
  views.push_back({"spans", "I32", {tokens, 2}, file.spans.data()});
  views.push_back({"token_ids", "I32", {tokens}, file.token_ids.data()});
  for (size_t l = 0; l < file.layers.size(); ++l) {
    views.push_back({absl::StrCat("hidden.", file.layers[l]),
                     "F32",
                     {tokens, file.width},
                     file.hidden[l].data()});
  }
  views.push_back({"embeddings", "F32", {tokens, file.width}, file.embeddings.data()});
  // The validated text, not invalid UTF-8, goes into the header: dump replaces bad bytes.
  return WriteSafetensors(
      path, {{"latentbus", meta.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)}},
      views);
}

absl::StatusOr<ActivationFile> ReadActivationFile(const std::string& path) {
  absl::StatusOr<SafetensorsContents> contents = ReadSafetensors(path);
  if (!contents.ok()) return contents.status();
  auto meta_it = contents->metadata.find("latentbus");
  if (meta_it == contents->metadata.end()) {
    return absl::DataLossError(absl::StrCat(path, ": no latentbus metadata"));
  }
  nlohmann::json meta = nlohmann::json::parse(meta_it->second, nullptr, false);
  ActivationFile file;
  try {
    if (meta.is_discarded() || meta.at("format") != "latentbus.activations") {
      return absl::DataLossError(absl::StrCat(path, ": not an activation file"));
    }
    if (meta.at("version").get<int>() != kActivationFormatVersion) {
      return absl::DataLossError(absl::StrCat(path, ": unsupported activation file version"));
    }
    file.model_id = meta.at("model_id").get<std::string>();
    file.fingerprint = meta.at("fingerprint").get<std::string>();
    file.corpus = meta.at("corpus").get<std::string>();
    file.corpus_hash = meta.at("corpus_hash").get<std::string>();
    file.layers = meta.at("layers").get<std::vector<int>>();
    file.width = meta.at("width").get<int64_t>();
    for (const auto& item : meta.at("items")) {
      file.texts.push_back(item.at("text").get<std::string>());
      file.splits.push_back(item.at("split").get<std::string>());
    }
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(absl::StrCat(path, ": malformed metadata: ", e.what()));
  }
  auto get = [&](const std::string& name) -> const StoredTensor* {
    auto it = contents->tensors.find(name);
    return it == contents->tensors.end() ? nullptr : &it->second;
  };
  const StoredTensor* offsets = get("offsets");
  const StoredTensor* spans = get("spans");
  const StoredTensor* ids = get("token_ids");
  const StoredTensor* emb = get("embeddings");
  if (!offsets || !spans || !ids || !emb) {
    return absl::DataLossError(absl::StrCat(path, ": missing tensors"));
  }
  std::vector<int32_t> span_values;
  if (absl::Status s = offsets->CopyInt64(&file.offsets); !s.ok()) return s;
  if (absl::Status s = spans->CopyInt32(&span_values); !s.ok()) return s;
  if (absl::Status s = ids->CopyInt32(&file.token_ids); !s.ok()) return s;
  if (absl::Status s = emb->CopyFloats(&file.embeddings); !s.ok()) return s;
  file.spans.assign(span_values.begin(), span_values.end());
  for (int layer : file.layers) {
    const StoredTensor* h = get(absl::StrCat("hidden.", layer));
    if (!h) return absl::DataLossError(absl::StrCat(path, ": missing hidden.", layer));
    file.hidden.emplace_back();
    if (absl::Status s = h->CopyFloats(&file.hidden.back()); !s.ok()) return s;
  }
  if (absl::Status s = file.Validate(); !s.ok()) {
    return absl::DataLossError(absl::StrCat(path, ": ", s.message()));
  }
  return file;
}

}  // namespace latentbus::bridge
