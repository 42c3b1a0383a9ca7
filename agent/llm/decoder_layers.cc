#include "agent/llm/decoder_layers.h"

namespace latentbus::agent::llm {

void TensorLoader::Load(torch::Tensor* out, const std::string& name, std::vector<int64_t> shape,
                        bool optional) {
  if (!status_.ok()) return;
  if (optional && !source_.Has(name)) return;
  absl::StatusOr<torch::Tensor> t = source_.Load(name, shape);
  if (!t.ok()) {
    status_ = t.status();
    return;
  }
  num_parameters_ += static_cast<size_t>(t->numel());
  bytes_ += static_cast<size_t>(t->numel()) * sizeof(float);
  *out = load_.device.is_cpu() ? *std::move(t) : t->to(load_.device);
}

void TensorLoader::LoadLinear(LinearWeight* out, const std::string& name,
                              std::vector<int64_t> shape) {
  if (!status_.ok()) return;
  if (load_.keep_quantized && load_.device.is_cpu()) {
    absl::StatusOr<std::shared_ptr<const PackedMatrix>> packed = source_.LoadPacked(name, shape);
    if (packed.ok()) {
      *out = LinearWeight(*std::move(packed), load_.int8_activations);
      num_parameters_ += static_cast<size_t>(shape[0] * shape[1]);
      bytes_ += out->bytes();
      return;
    }
    if (!absl::IsUnimplemented(packed.status())) {
      status_ = packed.status();
      return;
    }
  }
  torch::Tensor dense;
  Load(&dense, name, std::move(shape));
  if (status_.ok()) *out = LinearWeight(std::move(dense));
}

absl::StatusOr<std::unique_ptr<DecoderLayers>> LoadDecoderLayers(const WeightSource& source,
                                                                 const ModelConfig& config,
                                                                 const WeightLoad& load) {
  switch (config.family) {
    case Family::kLlama:
      return LoadLlamaLayers(source, config, load);
    case Family::kGemma3:
      return LoadGemma3Layers(source, config, load);
  }
  return absl::InvalidArgumentError("unknown model family");
}

}  // namespace latentbus::agent::llm
