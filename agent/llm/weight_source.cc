#include "agent/llm/weight_source.h"

#include <regex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/gguf/ggml_type.h"

namespace latentbus::agent::llm {
namespace {

absl::Status ShapeMismatch(const std::string& where, const std::string& name,
                           const std::vector<int64_t>& got, const std::vector<int64_t>& want) {
  return absl::InvalidArgumentError(
      absl::StrCat(where, ": tensor ", name, " has shape [", absl::StrJoin(got, ","),
                   "], the architecture needs [", absl::StrJoin(want, ","), "]"));
}

class GgufSource : public WeightSource {
 public:
  explicit GgufSource(const gguf::GgufFile& file) : file_(file) {}

  bool Has(const std::string& name) const override { return file_.FindTensor(name).ok(); }

  absl::StatusOr<torch::Tensor> Load(const std::string& name,
                                     const std::vector<int64_t>& shape) const override {
    absl::StatusOr<const gguf::TensorInfo*> info = Find(name, shape);
    if (!info.ok()) return info.status();
    torch::Tensor t = torch::empty(shape, torch::kFloat32);
    if (absl::Status s = gguf::Dequantize((*info)->type, (*info)->data, (*info)->num_elements,
                                          t.data_ptr<float>());
        !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(file_.path(), ": tensor ", name, ": ", s.message()));
    }
    return t;
  }

  absl::StatusOr<std::shared_ptr<const PackedMatrix>> LoadPacked(
      const std::string& name, const std::vector<int64_t>& shape) const override {
    absl::StatusOr<const gguf::TensorInfo*> info = Find(name, shape);
    if (!info.ok()) return info.status();
    // 16-bit matrices of rows PackedMatrix does not take load as floats (block types always
    // fit their own rows).
    const bool half =
        (*info)->type == gguf::GgmlType::kF16 || (*info)->type == gguf::GgmlType::kBF16;
    if (shape.size() != 2 || !PackedMatrix::CanPack((*info)->type) ||
        (half && !PackedMatrix::CanPackHalf(static_cast<size_t>(shape[1])))) {
      return WeightSource::LoadPacked(name, shape);
    }
    absl::StatusOr<PackedMatrix> m = PackedMatrix::FromGguf(
        (*info)->type, (*info)->data, static_cast<size_t>(shape[0]), static_cast<size_t>(shape[1]));
    if (!m.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(file_.path(), ": tensor ", name, ": ", m.status().message()));
    }
    return std::make_shared<const PackedMatrix>(*std::move(m));
  }

 private:
  // The tensor `name`, NotFound when absent, InvalidArgument unless it has `shape` (torch
  // order: the file's dims reversed).
  absl::StatusOr<const gguf::TensorInfo*> Find(const std::string& name,
                                               const std::vector<int64_t>& shape) const {
    absl::StatusOr<const gguf::TensorInfo*> info = file_.FindTensor(name);
    if (!info.ok()) return info.status();
    const std::vector<int64_t> file_shape((*info)->dims.rbegin(), (*info)->dims.rend());
    if (file_shape != shape) return ShapeMismatch(file_.path(), name, file_shape, shape);
    return info;
  }

  const gguf::GgufFile& file_;
};

// GGUF-style name -> Hugging Face name for the supported families.
std::string HfName(const std::string& name, Family family) {
  static const std::regex kBlock(R"(blk\.(\d+)\.(.+))");
  if (name == "token_embd.weight") return "model.embed_tokens.weight";
  if (name == "output_norm.weight") return "model.norm.weight";
  if (name == "output.weight") return "lm_head.weight";
  std::smatch m;
  if (!std::regex_match(name, m, kBlock)) return name;
  const std::string p = absl::StrCat("model.layers.", m[1].str(), ".");
  const std::string part = m[2].str();
  const bool gemma = family == Family::kGemma3;
  static const std::pair<const char*, const char*> kCommon[] = {
      {"attn_norm.weight", "input_layernorm.weight"},
      {"attn_q.weight", "self_attn.q_proj.weight"},
      {"attn_k.weight", "self_attn.k_proj.weight"},
      {"attn_v.weight", "self_attn.v_proj.weight"},
      {"attn_q.bias", "self_attn.q_proj.bias"},
      {"attn_k.bias", "self_attn.k_proj.bias"},
      {"attn_v.bias", "self_attn.v_proj.bias"},
      {"attn_output.weight", "self_attn.o_proj.weight"},
      {"ffn_gate.weight", "mlp.gate_proj.weight"},
      {"ffn_up.weight", "mlp.up_proj.weight"},
      {"ffn_down.weight", "mlp.down_proj.weight"},
      {"attn_q_norm.weight", "self_attn.q_norm.weight"},
      {"attn_k_norm.weight", "self_attn.k_norm.weight"},
      {"post_attention_norm.weight", "post_attention_layernorm.weight"},
      {"post_ffw_norm.weight", "post_feedforward_layernorm.weight"},
  };
  if (part == "ffn_norm.weight") {
    return p + (gemma ? "pre_feedforward_layernorm.weight" : "post_attention_layernorm.weight");
  }
  for (const auto& [from, to] : kCommon) {
    if (part == from) return p + to;
  }
  return p + part;
}

class SafetensorsSource : public WeightSource {
 public:
  SafetensorsSource(std::vector<std::unique_ptr<SafetensorsFile>> shards, Family family)
      : shards_(std::move(shards)), family_(family) {}

  bool Has(const std::string& name) const override { return Find(HfName(name, family_)); }

  // F16 and BF16 matrices stay 16-bit (PackedMatrix kF16 / kBF16); F32 ones load as floats.
  absl::StatusOr<std::shared_ptr<const PackedMatrix>> LoadPacked(
      const std::string& name, const std::vector<int64_t>& shape) const override {
    absl::StatusOr<const SafetensorsTensor*> found = Find(name, shape);
    if (!found.ok()) return found.status();
    const SafetensorsTensor& t = **found;
    const bool f16 = t.dtype == "F16", bf16 = t.dtype == "BF16";
    if (shape.size() != 2 || !(f16 || bf16) ||
        !PackedMatrix::CanPackHalf(static_cast<size_t>(shape[1]))) {
      return WeightSource::LoadPacked(name, shape);
    }
    absl::StatusOr<PackedMatrix> m =
        PackedMatrix::FromHalf(f16 ? PackedLayout::kF16 : PackedLayout::kBF16, t.data,
                               static_cast<size_t>(shape[0]), static_cast<size_t>(shape[1]));
    if (!m.ok()) return m.status();
    return std::make_shared<const PackedMatrix>(*std::move(m));
  }

  absl::StatusOr<torch::Tensor> Load(const std::string& name,
                                     const std::vector<int64_t>& shape) const override {
    absl::StatusOr<const SafetensorsTensor*> t = Find(name, shape);
    if (!t.ok()) return t.status();
    torch::Tensor out = torch::empty(shape, torch::kFloat32);
    if (absl::Status s = SafetensorsFile::ToFloat(**t, out.data_ptr<float>()); !s.ok()) return s;
    // Hugging Face Gemma RMSNorm multiplies by (1 + w); the runtime, like GGUF, by w.
    if (family_ == Family::kGemma3 && absl::EndsWith(name, "norm.weight")) out += 1.0f;
    return out;
  }

 private:
  // The tensor `name` (GGUF-style), NotFound when absent, InvalidArgument unless it has
  // `shape`.
  absl::StatusOr<const SafetensorsTensor*> Find(const std::string& name,
                                                const std::vector<int64_t>& shape) const {
    const std::string hf = HfName(name, family_);
    const SafetensorsTensor* t = Find(hf);
    if (t == nullptr) {
      return absl::NotFoundError(absl::StrCat("checkpoint has no tensor ", hf, " (", name, ")"));
    }
    if (t->shape != shape) return ShapeMismatch(hf, hf, t->shape, shape);
    return t;
  }

  const SafetensorsTensor* Find(const std::string& hf_name) const {
    for (const auto& shard : shards_) {
      if (const SafetensorsTensor* t = shard->Find(hf_name)) return t;
    }
    return nullptr;
  }

  std::vector<std::unique_ptr<SafetensorsFile>> shards_;
  Family family_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<const PackedMatrix>> WeightSource::LoadPacked(
    const std::string& name, const std::vector<int64_t>&) const {
  return absl::UnimplementedError(absl::StrCat(name, " is not stored in quantized blocks"));
}

std::unique_ptr<WeightSource> GgufWeights(const gguf::GgufFile& file) {
  return std::make_unique<GgufSource>(file);
}

std::unique_ptr<WeightSource> SafetensorsWeights(
    std::vector<std::unique_ptr<SafetensorsFile>> shards, Family family) {
  return std::make_unique<SafetensorsSource>(std::move(shards), family);
}

}  // namespace latentbus::agent::llm
