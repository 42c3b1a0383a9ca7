#include "bridge/bridge.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "bridge/bridge_kernels.h"
#include "bridge/bridge_kind.h"
#include "bridge/int8_bridge.h"
#include "codec/cpu_features.h"
#include "torch_edge/torch_edge.h"

namespace latentbus::bridge {

struct Bridge::Impl {
  BridgeMetadata metadata;
  // Linear kinds and the adapter's linear part, fused at load: y = x map_fused + bias.
  torch::Tensor map_fused;
  torch::Tensor bias;
  // Adapter's residual, normalizer fused: y += gelu(x up_fused + up_bias) down.
  torch::Tensor up_fused, up_bias, down;
  // Resampler.
  torch::Tensor queries, wq, wk, wv, wo, bo;
  torch::Tensor q_heads;  // [H, K, h]: the queries' projections, computed once
  // Set when the translation runs on int8 products instead (BridgeOptions::kernels).
  std::unique_ptr<Int8Bridge> int8;
  // Where the torch products run (BridgeOptions::device).
  torch::Device device = torch::kCPU;
};

namespace {

using torch_edge::FromTorch;
using torch_edge::ToTorch;

// Hands each input its rows of the [sum of rows, dst_dim] result `y`.
void SplitRows(const float* y, absl::Span<const codec::Tensor* const> inputs, int64_t dst_dim,
               std::vector<codec::Tensor>* outputs) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    codec::Tensor& out = (*outputs)[i];
    out.shape = {inputs[i]->shape[0], static_cast<uint32_t>(dst_dim)};
    out.data.assign(y, y + inputs[i]->shape[0] * dst_dim);
    y += out.data.size();
  }
}

// The device of BridgeOptions::device, or why it cannot be used.
absl::StatusOr<torch::Device> ParseDevice(const std::string& name) {
  if (name.empty() || name == "cpu") return torch::Device(torch::kCPU);
  if (name != "cuda" && name.rfind("cuda:", 0) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("bridge device must be cpu, cuda or cuda:N, got '", name, "'"));
  }
  torch::Device device = torch::kCPU;
  try {
    device = torch::Device(name);
  } catch (const c10::Error&) {
    return absl::InvalidArgumentError(
        absl::StrCat("bridge device must be cpu, cuda or cuda:N, got '", name, "'"));
  }
  if (!torch::cuda::is_available()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "bridge device ", name, ": this build's libtorch has no CUDA, or no GPU is visible"));
  }
  const int64_t count = static_cast<int64_t>(torch::cuda::device_count());
  if (device.has_index() && device.index() >= count) {
    return absl::FailedPreconditionError(
        absl::StrCat("bridge device ", name, ": there are ", count, " GPUs"));
  }
  return device;
}

}  // namespace

Bridge::Bridge(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Bridge::~Bridge() = default;

const BridgeMetadata& Bridge::metadata() const { return impl_->metadata; }

const char* Bridge::kernels() const {
  if (impl_->device.is_cuda()) return "cuda";
  return impl_->int8 != nullptr ? impl_->int8->kernels().name : "blas";
}

absl::StatusOr<std::unique_ptr<Bridge>> Bridge::Load(const std::string& path,
                                                     const BridgeOptions& options) {
  absl::StatusOr<BridgeArtifact> artifact = ReadBridgeArtifact(path);
  if (!artifact.ok()) return artifact.status();
  return FromArtifact(*artifact, options);
}

absl::StatusOr<std::unique_ptr<Bridge>> Bridge::FromArtifact(const BridgeArtifact& artifact,
                                                             const BridgeOptions& options) {
  if (absl::Status s = ValidateBridgeArtifact(artifact); !s.ok()) return s;
  const BridgeKindSpec kind = *FindBridgeKind(artifact.metadata.kind);  // validated above
  auto impl = std::make_unique<Impl>();
  impl->metadata = artifact.metadata;
  absl::StatusOr<torch::Device> device = ParseDevice(options.device);
  if (!device.ok()) return device.status();
  impl->device = *device;
  if (device->is_cuda() && !options.kernels.empty() && options.kernels != "auto" &&
      options.kernels != "blas") {
    return absl::InvalidArgumentError(absl::StrCat("bridge kernels '", options.kernels,
                                                   "' run on the CPU; on ", options.device,
                                                   " use auto or blas"));
  }
  absl::StatusOr<const Int8MatmulKernels*> int8 =
      device->is_cuda() ? absl::StatusOr<const Int8MatmulKernels*>(nullptr)
                        : ResolveBridgeKernels(options.kernels, std::getenv(kBridgeKernelsEnv),
                                               kind.linear || kind.kind == BridgeKind::kAdapter,
                                               codec::DetectCpuFeatures());
  if (!int8.ok()) return int8.status();
  if (*int8 != nullptr) {
    absl::StatusOr<std::unique_ptr<Int8Bridge>> b = Int8Bridge::Create(artifact, **int8);
    if (!b.ok()) return b.status();
    impl->int8 = *std::move(b);
    return std::unique_ptr<Bridge>(new Bridge(std::move(impl)));
  }
  auto t = [&](const char* name) { return ToTorch(artifact.tensors.at(name)); };
  try {
    torch::NoGradGuard no_grad;
    if (kind.linear) {
      // ((x - mu_s) / sd_s) M * sd_d + mu_d  =  x [diag(1/sd_s) M diag(sd_d)] + bias.
      torch::Tensor inv = 1.0 / t("src_std");
      torch::Tensor scaled = t("map") * t("dst_std").unsqueeze(0);
      impl->map_fused = (inv.unsqueeze(1) * scaled).contiguous();
      impl->bias = (t("dst_mean") - torch::matmul(t("src_mean") * inv, scaled)).contiguous();
    } else if (kind.kind == BridgeKind::kAdapter) {
      // z = (x - mu) / sd: x diag(1/sd) W + (b - (mu / sd) W) for both projections.
      torch::Tensor inv = 1.0 / t("src_std");
      torch::Tensor shift = t("src_mean") * inv;
      impl->map_fused = (inv.unsqueeze(1) * t("map")).contiguous();
      impl->bias = (t("bias") - torch::matmul(shift, t("map"))).contiguous();
      impl->up_fused = (inv.unsqueeze(1) * t("up")).contiguous();
      impl->up_bias = (t("up_bias") - torch::matmul(shift, t("up"))).contiguous();
      impl->down = t("down").contiguous();
    } else {
      impl->queries = t("queries");
      impl->wq = t("wq");
      impl->wk = t("wk");
      impl->wv = t("wv");
      impl->wo = t("wo");
      impl->bo = t("bo");
      const int64_t heads = artifact.metadata.num_heads;
      const int64_t k = artifact.metadata.num_queries;
      impl->q_heads =
          torch::matmul(impl->queries, impl->wq).view({k, heads, -1}).transpose(0, 1).contiguous();
    }
    if (impl->device.is_cuda()) {
      // float32 products as on the CPU: no TF32 in cuBLAS. libtorch's default, set again
      // here in case the environment turned it on; process-wide, so code that turns it
      // on later in the same process changes these products too.
      at::globalContext().setAllowTF32CuBLAS(false);
      for (torch::Tensor* w : {&impl->map_fused, &impl->bias, &impl->up_fused, &impl->up_bias,
                               &impl->down, &impl->queries, &impl->wq, &impl->wk, &impl->wv,
                               &impl->wo, &impl->bo, &impl->q_heads}) {
        if (!w->defined()) continue;
        *w = w->to(impl->device);
        // "cuda" means the GPU current at load; batches go to that one from any thread.
        impl->device = w->device();
      }
    }
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("libtorch: ", e.what_without_backtrace()));
  }
  return std::unique_ptr<Bridge>(new Bridge(std::move(impl)));
}

absl::Status Bridge::CheckModels(const std::string& src_model_id,
                                 const std::string& src_fingerprint,
                                 const std::string& dst_model_id,
                                 const std::string& dst_fingerprint) const {
  const BridgeMetadata& m = impl_->metadata;
  auto check = [](const char* what, const std::string& want, const std::string& got) {
    if (want == got) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat("bridge was fitted for ", what, " '", want,
                                                      "' but is asked to serve '", got, "'"));
  };
  if (absl::Status s = check("source model", m.src_model_id, src_model_id); !s.ok()) return s;
  if (absl::Status s = check("source fingerprint", m.src_fingerprint, src_fingerprint); !s.ok()) {
    return s;
  }
  if (absl::Status s = check("receiver model", m.dst_model_id, dst_model_id); !s.ok()) return s;
  return check("receiver fingerprint", m.dst_fingerprint, dst_fingerprint);
}

absl::StatusOr<std::vector<codec::Tensor>> Bridge::ApplyBatch(
    absl::Span<const codec::Tensor> inputs) const {
  std::vector<const codec::Tensor*> pointers;
  pointers.reserve(inputs.size());
  for (const codec::Tensor& in : inputs) pointers.push_back(&in);
  return ApplyBatch(absl::MakeConstSpan(pointers));
}

absl::StatusOr<std::vector<codec::Tensor>> Bridge::ApplyBatch(
    absl::Span<const codec::Tensor* const> inputs) const {
  const BridgeMetadata& m = impl_->metadata;
  for (const codec::Tensor* in : inputs) {
    if (in->shape.size() != 2 || in->shape[1] != m.src_dim || in->shape[0] == 0 ||
        in->data.size() != codec::NumElements(in->shape)) {
      return absl::InvalidArgumentError(absl::StrCat("bridge input has shape ",
                                                     codec::ShapeString(in->shape),
                                                     ", expected [T,", m.src_dim, "] with T >= 1"));
    }
  }
  std::vector<codec::Tensor> outputs(inputs.size());
  if (inputs.empty()) return outputs;
  if (impl_->int8 != nullptr) {
    // One product over every input's rows, as below.
    size_t rows = 0;
    for (const codec::Tensor* in : inputs) rows += in->shape[0];
    std::vector<float> x;
    const float* xs = inputs[0]->data.data();
    if (inputs.size() > 1) {
      x.reserve(rows * static_cast<size_t>(m.src_dim));
      for (const codec::Tensor* in : inputs) x.insert(x.end(), in->data.begin(), in->data.end());
      xs = x.data();
    }
    std::vector<float> y(rows * static_cast<size_t>(m.dst_dim));
    impl_->int8->Apply(xs, rows, y.data());
    if (inputs.size() == 1) {  // the common case in a broker: no copy
      outputs[0].shape = {inputs[0]->shape[0], static_cast<uint32_t>(m.dst_dim)};
      outputs[0].data = std::move(y);
      return outputs;
    }
    SplitRows(y.data(), inputs, m.dst_dim, &outputs);
    return outputs;
  }
  try {
    torch::NoGradGuard no_grad;
    if (impl_->map_fused.defined()) {
      int64_t rows = 0;
      for (const codec::Tensor* in : inputs) rows += in->shape[0];
      torch::Tensor x = torch::empty({rows, m.src_dim}, torch::kFloat32);
      float* dst = x.data_ptr<float>();
      for (const codec::Tensor* in : inputs) {
        std::memcpy(dst, in->data.data(), in->data.size() * sizeof(float));
        dst += in->data.size();
      }
      if (impl_->device.is_cuda()) x = x.to(impl_->device);
      torch::Tensor y = torch::addmm(impl_->bias, x, impl_->map_fused);
      if (impl_->down.defined()) {
        y.addmm_(torch::gelu(torch::addmm(impl_->up_bias, x, impl_->up_fused), "tanh"),
                 impl_->down);
      }
      if (impl_->device.is_cuda()) y = y.to(torch::kCPU).contiguous();
      SplitRows(y.data_ptr<float>(), inputs, m.dst_dim, &outputs);
      return outputs;
    }
    const int64_t heads = m.num_heads;
    const int64_t inner = impl_->wq.size(1);
    const double scale = 1.0 / std::sqrt(static_cast<double>(inner / heads));
    for (size_t i = 0; i < inputs.size(); ++i) {
      const int64_t t = inputs[i]->shape[0];
      torch::Tensor x = torch::from_blob(const_cast<float*>(inputs[i]->data.data()), {t, m.src_dim},
                                         torch::kFloat32)
                            .to(impl_->device);
      torch::Tensor k = torch::matmul(x, impl_->wk).view({t, heads, -1}).transpose(0, 1);
      torch::Tensor v = torch::matmul(x, impl_->wv).view({t, heads, -1}).transpose(0, 1);
      torch::Tensor attn =
          torch::softmax(torch::matmul(impl_->q_heads, k.transpose(1, 2)) * scale, -1);
      torch::Tensor o = torch::matmul(attn, v).transpose(0, 1).reshape({m.num_queries, inner});
      outputs[i] =
          FromTorch((impl_->queries + torch::matmul(o, impl_->wo) + impl_->bo).to(torch::kCPU));
    }
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("libtorch: ", e.what_without_backtrace()));
  }
  return outputs;
}

void SetComputeThreads(int threads) { torch_edge::SetComputeThreads(threads); }

absl::StatusOr<codec::Tensor> Bridge::Apply(const codec::Tensor& input) const {
  absl::StatusOr<std::vector<codec::Tensor>> out = ApplyBatch(absl::MakeConstSpan(&input, 1));
  if (!out.ok()) return out.status();
  return std::move((*out)[0]);
}

}  // namespace latentbus::bridge
