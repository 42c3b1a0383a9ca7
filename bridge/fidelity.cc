#include "bridge/fidelity.h"

#include <torch/torch.h>

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace latentbus::bridge {
namespace {

constexpr int64_t kCandidates = 100;

torch::Tensor Matrix(const std::vector<float>& v, int64_t rows, int64_t cols) {
  return torch::from_blob(const_cast<float*>(v.data()), {rows, cols}, torch::kFloat32);
}

// Top-1 retrieval accuracy of row i of `queries` finding row i of `targets`, in blocks.
double RetrievalTop1(const torch::Tensor& queries, const torch::Tensor& targets) {
  const int64_t n = queries.size(0);
  if (n < 2) return 0;
  torch::Tensor q = torch::nn::functional::normalize(
      queries, torch::nn::functional::NormalizeFuncOptions().dim(1));
  torch::Tensor t = torch::nn::functional::normalize(
      targets, torch::nn::functional::NormalizeFuncOptions().dim(1));
  const int64_t block = std::min(n, kCandidates);
  int64_t hits = 0, total = 0;
  for (int64_t b = 0; b + block <= n; b += block) {
    torch::Tensor sim = torch::matmul(q.slice(0, b, b + block), t.slice(0, b, b + block).t());
    torch::Tensor best = sim.argmax(1);
    hits += (best == torch::arange(block)).sum().item<int64_t>();
    total += block;
  }
  return static_cast<double>(hits) / static_cast<double>(total);
}

torch::Tensor Spectrum(const torch::Tensor& x) {
  torch::Tensor d = torch::cdist(x.to(torch::kFloat64), x.to(torch::kFloat64));
  return std::get<0>(torch::sort(torch::linalg_eigvalsh(d), 0, /*descending=*/true));
}

double Pearson(const torch::Tensor& a, const torch::Tensor& b) {
  torch::Tensor x = a - a.mean(), y = b - b.mean();
  const double denom = (x.norm() * y.norm()).item<double>();
  return denom > 0 ? (x * y).sum().item<double>() / denom : 0.0;
}

}  // namespace

std::map<std::string, double> Fidelity::ToMap() const {
  return {{"cosine", cosine},
          {"word_top1", word_top1},
          {"sentence_top1", sentence_top1},
          {"spectrum_corr", spectrum_corr},
          {"spectrum_corr_translated", spectrum_corr_translated},
          {"words", static_cast<double>(words)},
          {"distinct_words", static_cast<double>(distinct_words)},
          {"sentences", static_cast<double>(sentences)},
          {"unseen_word_top1", unseen_word_top1},
          {"unseen_words", static_cast<double>(unseen_words)}};
}

absl::StatusOr<Fidelity> MeasureFidelity(const WordPairs& pairs,
                                         const std::vector<float>& translated,
                                         const absl::flat_hash_set<std::string>* train_words) {
  const int64_t n = static_cast<int64_t>(pairs.size());
  if (n < 2) return absl::InvalidArgumentError("fidelity needs at least 2 word pairs");
  if (translated.size() != static_cast<size_t>(n * pairs.dst_width)) {
    return absl::InvalidArgumentError("translated vectors do not match the pairs");
  }
  Fidelity f;
  try {
    torch::NoGradGuard no_grad;
    torch::Tensor x = Matrix(pairs.src, n, pairs.src_width);
    torch::Tensor y = Matrix(pairs.dst, n, pairs.dst_width);
    torch::Tensor t = Matrix(translated, n, pairs.dst_width);
    f.words = n;
    f.cosine = torch::cosine_similarity(t, y, 1).mean().item<double>();
    // Distinct words, first occurrence.
    std::vector<int64_t> distinct;
    absl::flat_hash_set<std::string> seen;
    for (int64_t i = 0; i < n; ++i) {
      if (seen.insert(pairs.words[i]).second) distinct.push_back(i);
    }
    torch::Tensor index = torch::tensor(distinct, torch::kInt64);
    f.distinct_words = static_cast<int64_t>(distinct.size());
    f.word_top1 = RetrievalTop1(t.index_select(0, index), y.index_select(0, index));
    if (train_words != nullptr) {
      std::vector<int64_t> unseen;
      for (int64_t i : distinct) {
        if (!train_words->contains(pairs.words[i])) unseen.push_back(i);
      }
      f.unseen_words = static_cast<int64_t>(unseen.size());
      if (unseen.size() >= 2) {
        torch::Tensor u = torch::tensor(unseen, torch::kInt64);
        f.unseen_word_top1 = RetrievalTop1(t.index_select(0, u), y.index_select(0, u));
      }
    }
    // Sentences: mean over each item's words (pairs are grouped by item).
    std::vector<torch::Tensor> ts, ys;
    for (int64_t b = 0; b < n;) {
      int64_t e = b;
      while (e < n && pairs.item[e] == pairs.item[b]) ++e;
      ts.push_back(t.slice(0, b, e).mean(0));
      ys.push_back(y.slice(0, b, e).mean(0));
      b = e;
    }
    f.sentences = static_cast<int64_t>(ts.size());
    f.sentence_top1 = RetrievalTop1(torch::stack(ts), torch::stack(ys));
    const int64_t m = std::min<int64_t>(kCandidates, index.size(0));
    if (m >= 3) {
      torch::Tensor sub = index.slice(0, 0, m);
      torch::Tensor sy = Spectrum(y.index_select(0, sub));
      f.spectrum_corr = Pearson(Spectrum(x.index_select(0, sub)), sy);
      f.spectrum_corr_translated = Pearson(Spectrum(t.index_select(0, sub)), sy);
    }
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("libtorch: ", e.what_without_backtrace()));
  }
  return f;
}

absl::StatusOr<Fidelity> EvaluateBridge(const Bridge& bridge, const ActivationFile& src,
                                        const ActivationFile& dst) {
  if (bridge.kind() == "resampler") {
    return absl::UnimplementedError("word-level evaluation of a resampler bridge");
  }
  if (absl::Status s =
          bridge.CheckModels(src.model_id, src.fingerprint, dst.model_id, dst.fingerprint);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<WordPairs> pairs =
      AlignWords({&src, bridge.metadata().layer}, {&dst, -1}, "heldout");
  if (!pairs.ok()) return pairs.status();
  codec::Tensor in;
  in.shape = {static_cast<uint32_t>(pairs->size()), static_cast<uint32_t>(pairs->src_width)};
  in.data = pairs->src;
  if (pairs->size() == 0) return absl::InvalidArgumentError("no held-out word pairs");
  absl::StatusOr<codec::Tensor> out = bridge.Apply(in);
  if (!out.ok()) return out.status();
  absl::StatusOr<WordPairs> train =
      AlignWords({&src, bridge.metadata().layer}, {&dst, -1}, "train");
  if (!train.ok()) return train.status();
  absl::flat_hash_set<std::string> train_words(train->words.begin(), train->words.end());
  return MeasureFidelity(*pairs, out->data, &train_words);
}

}  // namespace latentbus::bridge
