#include "calibrate/calibrate.h"

#include "absl/strings/str_cat.h"

namespace latentbus::calibrate {

using bridge::ActivationFile;
using bridge::CorpusItem;

absl::StatusOr<ActivationFile> Calibrate(const agent::llm::Model& model,
                                         const std::vector<CorpusItem>& items,
                                         const CalibrateOptions& options) {
  const agent::llm::ModelInfo& info = model.info();
  if (options.layers.empty()) return absl::InvalidArgumentError("no tap layer given");
  for (int layer : options.layers) {
    if (layer < 0 || layer > info.num_layers) {
      return absl::InvalidArgumentError(absl::StrCat("layer ", layer, " is outside 0..",
                                                     info.num_layers, " for ", info.model_id));
    }
  }
  ActivationFile file;
  file.model_id = info.model_id;
  file.fingerprint = info.fingerprint;
  file.corpus = options.corpus_path;
  file.corpus_hash = CorpusHash(items);
  file.layers = options.layers;
  file.width = info.hidden_size;
  file.hidden.resize(options.layers.size());
  file.offsets.push_back(0);
  for (size_t i = 0; i < items.size(); ++i) {
    absl::StatusOr<agent::llm::EncodeResult> enc = model.Encode(items[i].text, options.layers);
    if (!enc.ok()) return enc.status();
    absl::StatusOr<codec::Tensor> emb = model.EmbedTokens(enc->token_ids);
    if (!emb.ok()) return emb.status();
    const size_t tokens = enc->token_ids.size();
    if (emb->data.size() != tokens * static_cast<size_t>(file.width) ||
        enc->spans.size() != tokens || enc->hidden.size() != options.layers.size()) {
      return absl::InternalError(absl::StrCat("encoding of item ", i, " has unexpected shapes"));
    }
    file.texts.push_back(items[i].text);
    file.splits.push_back(items[i].split);
    file.token_ids.insert(file.token_ids.end(), enc->token_ids.begin(), enc->token_ids.end());
    for (const auto& [b, e] : enc->spans) {
      file.spans.push_back(b);
      file.spans.push_back(e);
    }
    for (size_t l = 0; l < options.layers.size(); ++l) {
      if (enc->hidden[l].data.size() != emb->data.size()) {
        return absl::InternalError("hidden state and embedding widths differ");
      }
      file.hidden[l].insert(file.hidden[l].end(), enc->hidden[l].data.begin(),
                            enc->hidden[l].data.end());
    }
    file.embeddings.insert(file.embeddings.end(), emb->data.begin(), emb->data.end());
    file.offsets.push_back(static_cast<int64_t>(file.token_ids.size()));
    if (options.progress) options.progress(i + 1, items.size());
  }
  return file;
}

}  // namespace latentbus::calibrate
