#include "agent/llm/model.h"

#include <malloc.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "agent/llm/fingerprint.h"
#include "agent/llm/model_config.h"
#include "agent/llm/model_internals.h"
#include "agent/llm/model_source.h"
#include "agent/llm/packed_kernels.h"
#include "agent/llm/sampler.h"
#include "agent/llm/transformer.h"
#include "agent/tokenizer/chat_template.h"
#include "agent/tokenizer/tokenizer.h"
#include "codec/cuda/device_codec.h"
#include "torch_edge/torch_edge.h"

namespace latentbus::agent::llm {
namespace {

using torch_edge::Guarded;
using torch_edge::SetComputeThreads;

codec::Tensor ToCodecTensor(const torch::Tensor& t) { return torch_edge::FromTorch(t); }

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

PromptSegment PromptSegment::Text(std::string text, bool parse_special) {
  PromptSegment s;
  s.kind = Kind::kText;
  s.text = std::move(text);
  s.parse_special = parse_special;
  return s;
}

PromptSegment PromptSegment::Tokens(std::vector<int32_t> ids) {
  PromptSegment s;
  s.kind = Kind::kTokens;
  s.ids = std::move(ids);
  return s;
}

PromptSegment PromptSegment::Embeddings(codec::Tensor rows) {
  PromptSegment s;
  s.kind = Kind::kEmbeddings;
  s.embeddings = std::move(rows);
  return s;
}

PromptSegment PromptSegment::Latent(codec::Packet packet) {
  PromptSegment s;
  s.kind = Kind::kLatent;
  s.latent = std::move(packet);
  return s;
}

struct Model::Impl {
  std::unique_ptr<Transformer> transformer;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer;
  torch::Device device = torch::kCPU;
  ModelInfo info;
  int32_t bos_id = -1;            // prepended to prompts; -1 when the model uses none
  std::vector<int32_t> stop_ids;  // end of sequence and end of turn
  absl::StatusOr<tokenizer::ChatTemplate> chat = absl::UnimplementedError("no chat template");

  absl::StatusOr<EncodeResult> Tokenize(const std::string& text, bool add_bos,
                                        bool parse_special) const;
  // The prompt as input embeddings [T, d]. With `soft`, the i-th embedding segment's rows
  // are (*soft)[i] (a [n, d] tensor that may require gradients) instead of its values.
  absl::StatusOr<torch::Tensor> PromptEmbeddings(
      const std::vector<PromptSegment>& prompt, bool add_bos,
      const std::vector<torch::Tensor>* soft = nullptr) const;
  std::vector<codec::Tensor> CheckedTaps(const std::vector<torch::Tensor>& tapped) const;
  // A latent segment's rows on `device`: dequantized there by the device codec when the
  // device is a GPU and the packet is int8/int4, else decoded on the host and copied.
  absl::StatusOr<torch::Tensor> LatentRows(const codec::Packet& packet) const;
  // Tokenizes and runs the prefill up to the last of `layers`; the taps stay on `device`.
  absl::StatusOr<EncodeResult> Prefill(const std::string& text, const std::vector<int>& layers,
                                       bool add_bos, std::vector<torch::Tensor>* tapped) const;
  absl::Status CheckLayers(const std::vector<int>& layers) const;
};

absl::StatusOr<EncodeResult> Model::Impl::Tokenize(const std::string& text, bool add_bos,
                                                   bool parse_special) const {
  tokenizer::EncodeOptions options;
  options.parse_special = parse_special;
  EncodeResult r;
  if (add_bos && bos_id >= 0) {
    r.token_ids.push_back(bos_id);
    r.spans.emplace_back(0, 0);
  }
  for (const tokenizer::Token& t : tokenizer->Encode(text, options)) {
    r.token_ids.push_back(t.id);
    r.spans.emplace_back(static_cast<uint32_t>(t.begin), static_cast<uint32_t>(t.end));
  }
  return r;
}

absl::Status Model::Impl::CheckLayers(const std::vector<int>& layers) const {
  for (int l : layers) {
    if (l < 0 || l > info.num_layers) {
      return absl::InvalidArgumentError(absl::StrCat("layer ", l, " out of range: ", info.model_id,
                                                     " has layers 0..", info.num_layers));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<torch::Tensor> Model::Impl::PromptEmbeddings(
    const std::vector<PromptSegment>& prompt, bool add_bos,
    const std::vector<torch::Tensor>* soft) const {
  std::vector<torch::Tensor> parts;
  size_t soft_used = 0;
  auto embed_ids = [&](const std::vector<int32_t>& ids) -> absl::Status {
    for (int32_t id : ids) {
      if (id < 0 || id >= info.vocab_size) {
        return absl::InvalidArgumentError(
            absl::StrCat("token id ", id, " outside the vocabulary of ", info.vocab_size));
      }
    }
    if (!ids.empty()) {
      parts.push_back(transformer->Embed(
          torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kInt64)));
    }
    return absl::OkStatus();
  };
  if (add_bos && bos_id >= 0 && !prompt.empty() && prompt[0].kind != PromptSegment::Kind::kTokens) {
    if (absl::Status s = embed_ids({bos_id}); !s.ok()) return s;
  }
  for (const PromptSegment& seg : prompt) {
    switch (seg.kind) {
      case PromptSegment::Kind::kText: {
        absl::StatusOr<EncodeResult> enc = Tokenize(seg.text, /*add_bos=*/false, seg.parse_special);
        if (!enc.ok()) return enc.status();
        if (absl::Status s = embed_ids(enc->token_ids); !s.ok()) return s;
        break;
      }
      case PromptSegment::Kind::kTokens:
        if (absl::Status s = embed_ids(seg.ids); !s.ok()) return s;
        break;
      case PromptSegment::Kind::kEmbeddings: {
        if (soft != nullptr) {
          if (soft_used >= soft->size()) {
            return absl::InvalidArgumentError("more embedding segments than soft tensors");
          }
          const torch::Tensor& rows = (*soft)[soft_used++];
          if (rows.dim() != 2 || rows.size(1) != info.embedding_size) {
            return absl::InvalidArgumentError(absl::StrCat(
                "soft tensor must be [n, ", info.embedding_size, "] for ", info.model_id));
          }
          if (rows.size(0) > 0) parts.push_back(rows.to(device));
          break;
        }
        const codec::Tensor& e = seg.embeddings;
        if (e.shape.size() != 2 || e.shape[1] != static_cast<uint32_t>(info.embedding_size) ||
            e.data.size() != static_cast<size_t>(e.shape[0]) * e.shape[1]) {
          return absl::InvalidArgumentError(
              absl::StrCat("embedding segment has shape ", codec::ShapeString(e.shape), ", ",
                           info.model_id, " needs [n, ", info.embedding_size, "]"));
        }
        for (float v : e.data) {
          if (!std::isfinite(v)) {
            return absl::InvalidArgumentError("embedding segment holds a non-finite value");
          }
        }
        if (e.shape[0] == 0) break;
        parts.push_back(
            torch::from_blob(const_cast<float*>(e.data.data()),
                             {static_cast<int64_t>(e.shape[0]), static_cast<int64_t>(e.shape[1])},
                             torch::kFloat32)
                .to(device, /*non_blocking=*/false, /*copy=*/true));
        break;
      }
      case PromptSegment::Kind::kLatent: {
        absl::StatusOr<torch::Tensor> rows = LatentRows(seg.latent);
        if (!rows.ok()) return rows.status();
        parts.push_back(*std::move(rows));
        break;
      }
    }
  }
  if (soft != nullptr && soft_used != soft->size()) {
    return absl::InvalidArgumentError("fewer embedding segments than soft tensors");
  }
  if (parts.empty()) return absl::InvalidArgumentError("empty prompt");
  torch::Tensor x = torch::cat(parts, 0);
  if (x.size(0) > info.context_length) {
    return absl::InvalidArgumentError(absl::StrCat(
        "prompt of ", x.size(0), " positions exceeds the context length ", info.context_length));
  }
  return x;
}

absl::StatusOr<torch::Tensor> Model::Impl::LatentRows(const codec::Packet& p) const {
  if (p.shape.size() != 2 || p.shape[1] != static_cast<uint32_t>(info.embedding_size)) {
    return absl::InvalidArgumentError(absl::StrCat("latent segment has shape ",
                                                   codec::ShapeString(p.shape), ", ", info.model_id,
                                                   " needs [n, ", info.embedding_size, "]"));
  }
  const int64_t n = p.shape[0];
  const int64_t d = p.shape[1];
  if (device.is_cuda() && codec::IsQuantized(p.encoding.dtype) && codec::cuda::Built()) {
    // Checked before the rows are allocated: the shape is the packet's claim, bounded only
    // by validation (codec::Decode below validates on its own).
    if (absl::Status s = codec::ValidatePacket(p); !s.ok()) return s;
    torch::Tensor rows =
        torch::empty({n, d}, torch::TensorOptions().dtype(torch::kFloat32).device(device));
    // The codec writes on its own stream: memory the allocator handed back must be idle.
    const int index = rows.device().index();
    torch::cuda::synchronize(index);
    if (absl::Status s = codec::cuda::UseDevice(index); !s.ok()) return s;
    if (absl::Status s = codec::cuda::DecodeToDevice(p, rows.data_ptr<float>(), n * d); !s.ok()) {
      return s;
    }
    return rows;
  }
  absl::StatusOr<codec::Tensor> t = codec::Decode(p);
  if (!t.ok()) return t.status();
  return torch::from_blob(t->data.data(), {n, d}, torch::kFloat32)
      .to(device, /*non_blocking=*/false, /*copy=*/true);
}

absl::StatusOr<EncodeResult> Model::Impl::Prefill(const std::string& text,
                                                  const std::vector<int>& layers, bool add_bos,
                                                  std::vector<torch::Tensor>* tapped) const {
  if (absl::Status s = CheckLayers(layers); !s.ok()) return s;
  absl::StatusOr<EncodeResult> r = Tokenize(text, add_bos, /*parse_special=*/false);
  if (!r.ok()) return r.status();
  if (r->token_ids.empty()) return absl::InvalidArgumentError("nothing to encode: empty text");
  if (static_cast<int64_t>(r->token_ids.size()) > info.context_length) {
    return absl::InvalidArgumentError(absl::StrCat(
        r->token_ids.size(), " tokens exceed the context length ", info.context_length));
  }
  const torch::Tensor ids =
      torch::tensor(std::vector<int64_t>(r->token_ids.begin(), r->token_ids.end()), torch::kInt64);
  KvCache cache(transformer->config(), ids.size(0), device);
  transformer->Forward(transformer->Embed(ids), &cache, layers, tapped,
                       /*all_logits=*/false, /*stop_at_last_tap=*/true);
  return r;
}

std::vector<codec::Tensor> Model::Impl::CheckedTaps(
    const std::vector<torch::Tensor>& tapped) const {
  std::vector<codec::Tensor> out;
  for (const torch::Tensor& t : tapped) out.push_back(ToCodecTensor(t));
  return out;
}

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

absl::StatusOr<std::unique_ptr<Model>> Model::Load(const std::string& path,
                                                   const LoadOptions& options) {
  return Guarded("loading model", [&]() -> absl::StatusOr<std::unique_ptr<Model>> {
    auto impl = std::make_unique<Impl>();
    try {
      impl->device = torch::Device(options.device);
    } catch (const c10::Error&) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown device '", options.device, "' (use cpu, cuda or cuda:N)"));
    }
    if (impl->device.is_cuda() && !torch::cuda::is_available()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "device ", options.device, " requested but this libtorch has no usable CUDA"));
    }
    if (impl->device.is_cuda() && impl->device.has_index() &&
        static_cast<int64_t>(impl->device.index()) >=
            static_cast<int64_t>(torch::cuda::device_count())) {
      return absl::FailedPreconditionError(absl::StrCat("device ", options.device,
                                                        " requested but this machine has ",
                                                        torch::cuda::device_count(), " GPU(s)"));
    }
    // Debian's libtorch starts with one intra-op thread; default to one per core.
    const int threads = options.threads > 0
                            ? options.threads
                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    SetComputeThreads(threads);
    SetPackedKernelThreads(threads);
    absl::StatusOr<ModelSource> src = OpenModelSource(path);
    if (!src.ok()) return src.status();
    absl::StatusOr<std::unique_ptr<tokenizer::Tokenizer>> tok =
        tokenizer::Tokenizer::Create(src->tokenizer);
    if (!tok.ok()) return tok.status();
    impl->tokenizer = *std::move(tok);
    const tokenizer::Tokenizer& t = *impl->tokenizer;
    if (t.spec().add_bos && t.bos_id().has_value()) impl->bos_id = *t.bos_id();
    if (t.eos_id().has_value()) impl->stop_ids.push_back(*t.eos_id());
    impl->chat = tokenizer::ChatTemplate::ForSpec(t.spec());
    if (impl->chat.ok()) {
      if (std::optional<int32_t> id = t.FindPiece(impl->chat->end_of_turn())) {
        impl->stop_ids.push_back(*id);
      }
    }
    WeightLoad load;
    load.device = impl->device;
    load.keep_quantized = options.keep_quantized && impl->device.is_cpu();
    load.int8_activations = load.keep_quantized && options.int8_activations;
    absl::StatusOr<Weights> weights = LoadWeights(*src->weights, src->config, load);
    if (!weights.ok()) return weights.status();

    const ModelConfig& config = src->config;
    ModelInfo& info = impl->info;
    info.model_id = ModelIdFromPath(path);
    info.fingerprint = src->fingerprint;
    info.family = FamilyName(config.family);
    info.architecture = config.architecture;
    info.path = path;
    info.hidden_size = config.hidden_size;
    info.embedding_size = config.hidden_size;
    info.num_layers = config.num_layers;
    info.num_heads = config.num_heads;
    info.num_kv_heads = config.num_kv_heads;
    info.head_dim = config.head_dim;
    info.ffn_size = config.ffn_size;
    info.vocab_size = config.vocab_size;
    info.context_length = config.context_length;
    info.num_parameters = weights->num_parameters;
    info.weight_bytes = weights->bytes;
    info.quantized = weights->bytes < weights->num_parameters * sizeof(float);
    info.int8_activations = info.quantized && load.int8_activations;
    info.device = impl->device.str();
    info.threads = threads;
    impl->transformer = std::make_unique<Transformer>(src->config, *std::move(weights));
    src = absl::InternalError("released");  // unmaps the file before trimming the heap
    // Loading leaves freed temporaries (tokenizer tables, JSON) on the heap; give them
    // back so that resident memory reflects what the model holds.
    malloc_trim(0);
    return std::unique_ptr<Model>(new Model(std::move(impl)));
  });
}

const ModelInfo& Model::info() const { return impl_->info; }

absl::StatusOr<EncodeResult> Model::Tokenize(const std::string& text, bool add_bos) const {
  return impl_->Tokenize(text, add_bos, /*parse_special=*/true);
}

absl::StatusOr<std::string> Model::Detokenize(const std::vector<int32_t>& ids) const {
  return impl_->tokenizer->Decode(ids);
}

absl::StatusOr<codec::Tensor> Model::EmbedTokens(const std::vector<int32_t>& ids) const {
  return Guarded("embedding tokens", [&]() -> absl::StatusOr<codec::Tensor> {
    torch::NoGradGuard no_grad;
    absl::StatusOr<torch::Tensor> x =
        impl_->PromptEmbeddings({PromptSegment::Tokens(ids)}, /*add_bos=*/false);
    if (!x.ok()) return x.status();
    return ToCodecTensor(*x);
  });
}

absl::StatusOr<ForwardResult> Model::Forward(const std::vector<PromptSegment>& prompt,
                                             const std::vector<int>& layers, bool all_logits,
                                             bool add_bos) const {
  return Guarded("forward", [&]() -> absl::StatusOr<ForwardResult> {
    if (absl::Status s = impl_->CheckLayers(layers); !s.ok()) return s;
    torch::NoGradGuard no_grad;
    absl::StatusOr<torch::Tensor> x = impl_->PromptEmbeddings(prompt, add_bos);
    if (!x.ok()) return x.status();
    KvCache cache(impl_->transformer->config(), x->size(0), impl_->device);
    std::vector<torch::Tensor> tapped;
    ForwardResult r;
    r.logits = ToCodecTensor(impl_->transformer->Forward(*x, &cache, layers, &tapped, all_logits));
    r.hidden = impl_->CheckedTaps(tapped);
    return r;
  });
}

absl::StatusOr<EncodeResult> Model::Encode(const std::string& text, const std::vector<int>& layers,
                                           bool add_bos) const {
  return Guarded("encode", [&]() -> absl::StatusOr<EncodeResult> {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> tapped;
    absl::StatusOr<EncodeResult> r = impl_->Prefill(text, layers, add_bos, &tapped);
    if (!r.ok()) return r.status();
    r->hidden = impl_->CheckedTaps(tapped);
    return r;
  });
}

absl::StatusOr<LatentResult> Model::EncodeLatent(const std::string& text, int layer,
                                                 const codec::Encoding& encoding,
                                                 bool drop_bos_row) const {
  return Guarded("encode latent", [&]() -> absl::StatusOr<LatentResult> {
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> tapped;
    absl::StatusOr<EncodeResult> encoded = impl_->Prefill(text, {layer}, /*add_bos=*/true, &tapped);
    if (!encoded.ok()) return encoded.status();
    LatentResult r;
    r.token_ids = std::move(encoded->token_ids);
    torch::Tensor h = tapped[0];
    if (drop_bos_row && impl_->bos_id >= 0 && r.token_ids[0] == impl_->bos_id && h.size(0) > 1) {
      h = h.slice(0, 1);
    }
    h = h.to(torch::kFloat32).contiguous();
    // The prefill's kernels must be done: for its time, and because the device codec
    // reads on its own stream.
    if (h.is_cuda()) torch::cuda::synchronize(h.device().index());
    const auto prefilled = Clock::now();
    r.prefill_seconds = std::chrono::duration<double>(prefilled - start).count();
    const std::vector<uint32_t> shape = {static_cast<uint32_t>(h.size(0)),
                                         static_cast<uint32_t>(h.size(1))};
    // A build without the device codec (codec::cuda::Built) quantizes a host copy.
    if (h.is_cuda() && codec::IsQuantized(encoding.dtype) && codec::cuda::Built()) {
      const int index = h.device().index();
      if (absl::Status s = codec::cuda::UseDevice(index); !s.ok()) return s;
      if (absl::Status s = codec::cuda::EncodeFromDevice(
              h.data_ptr<float>(), static_cast<size_t>(h.numel()), shape, encoding, &r.packet);
          !s.ok()) {
        return s;
      }
      r.on_device = true;
    } else {
      const torch::Tensor host = h.to(torch::kCPU).contiguous();
      if (absl::Status s = codec::EncodeInto(
              absl::MakeConstSpan(host.data_ptr<float>(), static_cast<size_t>(host.numel())), shape,
              encoding, &r.packet);
          !s.ok()) {
        return s;
      }
    }
    r.codec_seconds = std::chrono::duration<double>(Clock::now() - prefilled).count();
    return r;
  });
}

absl::StatusOr<GenerateResult> Model::Generate(const std::vector<PromptSegment>& prompt,
                                               const GenerateOptions& options) const {
  return Guarded("generate", [&]() -> absl::StatusOr<GenerateResult> {
    if (options.max_new_tokens < 0) {
      return absl::InvalidArgumentError("max_new_tokens must be >= 0");
    }
    torch::NoGradGuard no_grad;
    const auto t0 = std::chrono::steady_clock::now();
    absl::StatusOr<torch::Tensor> x = impl_->PromptEmbeddings(prompt, options.add_bos);
    if (!x.ok()) return x.status();
    GenerateResult r;
    r.prompt_tokens = x->size(0);
    const int64_t room = impl_->info.context_length - r.prompt_tokens;
    const int64_t budget = std::min<int64_t>(options.max_new_tokens, room);
    KvCache cache(impl_->transformer->config(), r.prompt_tokens + budget, impl_->device);
    // On a GPU, Forward returns once its kernels are queued: the copy to the host waits
    // for them, so that prefill_seconds holds the prefill's work (a no-op on the CPU).
    torch::Tensor logits =
        impl_->transformer->Forward(*x, &cache, {}, nullptr, false).to(torch::kCPU);
    r.prefill_seconds = SecondsSince(t0);
    const auto t1 = std::chrono::steady_clock::now();
    Sampler sampler(options.temperature, options.top_p, options.seed);
    r.stop_reason = budget < options.max_new_tokens ? "context" : "max_tokens";
    for (int64_t step = 0; step < budget; ++step) {
      const torch::Tensor row = logits[0].to(torch::kCPU).contiguous();
      const int32_t next = sampler.Next(
          absl::MakeConstSpan(row.data_ptr<float>(), static_cast<size_t>(row.numel())));
      if (!options.ignore_eos && std::find(impl_->stop_ids.begin(), impl_->stop_ids.end(), next) !=
                                     impl_->stop_ids.end()) {
        r.stop_reason = "eos";
        break;
      }
      r.tokens.push_back(next);
      if (!options.stop.empty()) {
        absl::StatusOr<std::string> text = impl_->tokenizer->Decode(r.tokens);
        if (!text.ok()) return text.status();
        bool stopped = false;
        for (const std::string& s : options.stop) {
          const size_t at = s.empty() ? std::string::npos : text->find(s);
          if (at != std::string::npos) {
            r.text = text->substr(0, at);
            stopped = true;
            break;
          }
        }
        if (stopped) {
          r.stop_reason = "stop_string";
          r.decode_seconds = SecondsSince(t1);
          return r;
        }
      }
      if (step + 1 == budget) break;
      logits = impl_->transformer->Forward(
          impl_->transformer->Embed(torch::tensor(std::vector<int64_t>{next}, torch::kInt64)),
          &cache, {}, nullptr, false);
    }
    r.decode_seconds = SecondsSince(t1);
    absl::StatusOr<std::string> text = impl_->tokenizer->Decode(r.tokens);
    if (!text.ok()) return text.status();
    r.text = *std::move(text);
    return r;
  });
}

absl::StatusOr<std::string> Model::ChatPrompt(
    const std::vector<std::pair<std::string, std::string>>& messages) const {
  if (!impl_->chat.ok()) return impl_->chat.status();
  std::vector<tokenizer::ChatMessage> chat;
  for (const auto& [role, content] : messages) chat.push_back({role, content});
  return impl_->chat->Render(chat, /*add_generation_prompt=*/true);
}

const Transformer& ModelInternals::transformer(const Model& model) {
  return *model.impl_->transformer;
}

torch::Device ModelInternals::device(const Model& model) { return model.impl_->device; }

absl::StatusOr<torch::Tensor> ModelInternals::PromptEmbeddings(
    const Model& model, const std::vector<PromptSegment>& prompt, bool add_bos,
    const std::vector<torch::Tensor>& soft) {
  return Guarded("prompt embeddings", [&]() -> absl::StatusOr<torch::Tensor> {
    return model.impl_->PromptEmbeddings(prompt, add_bos, &soft);
  });
}

}  // namespace latentbus::agent::llm
