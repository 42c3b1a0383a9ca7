#include "bridge/word_align.h"

#include "absl/strings/str_cat.h"

namespace latentbus::bridge {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

absl::StatusOr<const float*> Vectors(const Side& side) {
  if (side.layer < 0) return side.file->embeddings.data();
  const int index = side.file->LayerIndex(side.layer);
  if (index < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "layer ", side.layer, " is not in the activation file of ", side.file->model_id));
  }
  return side.file->hidden[index].data();
}

}  // namespace

std::vector<ByteSpan> WordSpans(const std::string& text) {
  std::vector<ByteSpan> words;
  const uint32_t n = static_cast<uint32_t>(text.size());
  uint32_t i = 0;
  while (i < n) {
    while (i < n && IsSpace(text[i])) ++i;
    const uint32_t begin = i;
    while (i < n && !IsSpace(text[i])) ++i;
    if (i > begin) words.emplace_back(begin, i);
  }
  return words;
}

void PoolWords(const std::string& text, const std::vector<ByteSpan>& spans, const float* vectors,
               int64_t width, std::vector<ByteSpan>* words, std::vector<float>* pooled) {
  words->clear();
  pooled->clear();
  const size_t w = static_cast<size_t>(width);
  std::vector<float> sum(w);
  size_t first = 0;  // tokens before `first` end before the current word
  for (const ByteSpan& word : WordSpans(text)) {
    while (first < spans.size() && spans[first].second <= word.first) ++first;
    std::fill(sum.begin(), sum.end(), 0.0f);
    int count = 0;
    for (size_t t = first; t < spans.size(); ++t) {
      const ByteSpan& s = spans[t];
      if (s.first >= s.second) continue;  // empty span (BOS, special tokens)
      if (s.first >= word.second) {
        // Spans are ordered by begin in practice; stop at the first token past the word.
        break;
      }
      if (s.second <= word.first) continue;
      const float* row = vectors + t * w;
      for (size_t k = 0; k < w; ++k) sum[k] += row[k];
      ++count;
    }
    if (count == 0) continue;
    words->push_back(word);
    for (size_t k = 0; k < w; ++k) pooled->push_back(sum[k] / static_cast<float>(count));
  }
}

absl::StatusOr<WordPairs> AlignWords(const Side& src, const Side& dst, const std::string& split) {
  const ActivationFile& a = *src.file;
  const ActivationFile& b = *dst.file;
  if (a.texts != b.texts) {
    return absl::InvalidArgumentError(absl::StrCat("activation files of ", a.model_id, " and ",
                                                   b.model_id,
                                                   " are not over the same corpus items"));
  }
  absl::StatusOr<const float*> va = Vectors(src);
  if (!va.ok()) return va.status();
  absl::StatusOr<const float*> vb = Vectors(dst);
  if (!vb.ok()) return vb.status();
  WordPairs pairs;
  pairs.src_width = a.width;
  pairs.dst_width = b.width;
  std::vector<ByteSpan> wa, wb, spans_a, spans_b;
  std::vector<float> pa, pb;
  for (size_t i = 0; i < a.num_items(); ++i) {
    if (!split.empty() && a.splits[i] != split) continue;
    auto spans_of = [](const ActivationFile& f, size_t item, std::vector<ByteSpan>* out) {
      out->clear();
      for (int64_t t = f.offsets[item]; t < f.offsets[item + 1]; ++t) {
        out->emplace_back(f.spans[2 * t], f.spans[2 * t + 1]);
      }
    };
    spans_of(a, i, &spans_a);
    spans_of(b, i, &spans_b);
    PoolWords(a.texts[i], spans_a, *va + a.offsets[i] * a.width, a.width, &wa, &pa);
    PoolWords(b.texts[i], spans_b, *vb + b.offsets[i] * b.width, b.width, &wb, &pb);
    size_t j = 0;
    for (size_t k = 0; k < wa.size(); ++k) {
      while (j < wb.size() && wb[j].first < wa[k].first) ++j;
      if (j == wb.size()) break;
      if (wb[j] != wa[k]) continue;
      pairs.src.insert(pairs.src.end(), pa.begin() + k * a.width, pa.begin() + (k + 1) * a.width);
      pairs.dst.insert(pairs.dst.end(), pb.begin() + j * b.width, pb.begin() + (j + 1) * b.width);
      pairs.item.push_back(static_cast<uint32_t>(i));
      pairs.words.push_back(a.texts[i].substr(wa[k].first, wa[k].second - wa[k].first));
    }
  }
  return pairs;
}

}  // namespace latentbus::bridge
