#include "bridge/bridge_bench.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

#include "absl/strings/str_cat.h"
#include "bridge/bridge.h"
#include "bridge/bridge_artifact.h"
#include "bridge/bridge_kernels.h"
#include "codec/cpu_features.h"

namespace latentbus::bridge {
namespace {

using Clock = std::chrono::steady_clock;

codec::Tensor RandomTensor(std::vector<uint32_t> shape, std::mt19937* rng, float mean = 0,
                           float stddev = 1) {
  std::normal_distribution<float> dist(mean, stddev);
  codec::Tensor t;
  t.shape = std::move(shape);
  t.data.resize(codec::NumElements(t.shape));
  for (float& v : t.data) v = dist(*rng);
  return t;
}

// Seconds per call of `fn`, best of repeated batches running at least `min_seconds`.
template <typename Fn>
double TimePerCall(Fn&& fn, double min_seconds) {
  fn();  // warm-up
  double best = 1e30;
  for (int round = 0; round < 3; ++round) {
    int calls = 0;
    const auto start = Clock::now();
    double elapsed = 0;
    do {
      fn();
      ++calls;
      elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    } while (elapsed < min_seconds / 3);
    best = std::min(best, elapsed / calls);
  }
  return best;
}

// The kernels to measure: blas first (the other rows are compared with it).
std::vector<std::string> KernelList(const std::vector<std::string>& asked) {
  std::vector<std::string> kernels = {"blas"};
  if (asked.empty()) {
    for (std::string& v : Int8VariantsThisCpuRuns(codec::DetectCpuFeatures())) {
      kernels.push_back(std::move(v));
    }
    return kernels;
  }
  for (const std::string& k : asked) {
    if (k != "blas") kernels.push_back(k);
  }
  return kernels;
}

// Inputs around the bridge's source statistics (what a sender's hidden states look like
// to it).
std::vector<codec::Tensor> Inputs(const BridgeArtifact& artifact, const BridgeBenchOptions& o,
                                  std::mt19937* rng) {
  const std::vector<float>& mean = artifact.tensors.at("src_mean").data;
  const std::vector<float>& stddev = artifact.tensors.at("src_std").data;
  std::vector<codec::Tensor> inputs;
  for (int64_t i = 0; i < o.packets; ++i) {
    codec::Tensor t =
        RandomTensor({static_cast<uint32_t>(o.tokens), static_cast<uint32_t>(o.src_dim)}, rng);
    for (size_t k = 0; k < t.data.size(); ++k) {
      const size_t c = k % mean.size();
      t.data[k] = mean[c] + std::fabs(stddev[c]) * t.data[k];
    }
    inputs.push_back(std::move(t));
  }
  return inputs;
}

double RelativeError(const std::vector<codec::Tensor>& got,
                     const std::vector<codec::Tensor>& want) {
  double err = 0, norm = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    for (size_t k = 0; k < got[i].data.size(); ++k) {
      const double d = double{got[i].data[k]} - want[i].data[k];
      err += d * d;
      norm += double{want[i].data[k]} * want[i].data[k];
    }
  }
  return norm > 0 ? std::sqrt(err / norm) : 0;
}

}  // namespace

absl::StatusOr<std::vector<BridgeBenchRow>> RunBridgeBench(const BridgeBenchOptions& o) {
  SetComputeThreads(std::max(1, o.threads));
  std::mt19937 rng(7);
  const uint32_t ds = static_cast<uint32_t>(o.src_dim), dt = static_cast<uint32_t>(o.dst_dim);
  const double rows = static_cast<double>(o.packets * o.tokens);
  const double flops = 2.0 * rows * static_cast<double>(ds) * static_cast<double>(dt);
  double matmul_seconds = 0;
  double device_matmul_seconds = 0;
  std::vector<std::string> kernels = KernelList(o.kernels);
  try {
    torch::NoGradGuard no_grad;
    torch::Tensor a = torch::randn({o.packets * o.tokens, o.src_dim});
    torch::Tensor b = torch::randn({o.src_dim, o.dst_dim});
    matmul_seconds = TimePerCall([&] { torch::Tensor c = torch::mm(a, b); }, o.min_seconds);
    if (!o.device.empty() && o.device != "cpu") {
      // The same product on the GPU, waited for (what a translation there waits for too).
      if (o.device != "cuda" && o.device.rfind("cuda:", 0) != 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("bench bridge: device must be cpu, cuda or cuda:N, got '", o.device, "'"));
      }
      if (!torch::cuda::is_available()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "bench bridge --device ", o.device, ": libtorch has no CUDA, or no GPU is visible"));
      }
      const torch::Device device(o.device);
      torch::Tensor da = a.to(device), db = b.to(device);
      device_matmul_seconds = TimePerCall(
          [&] {
            torch::Tensor c = torch::mm(da, db);
            torch::cuda::synchronize(device.has_index() ? device.index() : -1);
          },
          o.min_seconds);
      kernels.push_back("cuda");
    }
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("libtorch: ", e.what_without_backtrace()));
  }
  std::vector<BridgeBenchRow> result;
  // One row per kernel for `artifact`, blas first.
  auto measure = [&](const std::string& kind, const BridgeArtifact& artifact) -> absl::Status {
    const std::vector<codec::Tensor> inputs = Inputs(artifact, o, &rng);
    std::vector<codec::Tensor> blas_out;
    double blas_seconds = 0;
    for (const std::string& k : kernels) {
      BridgeOptions options{k};
      if (k == "cuda") options = BridgeOptions{"blas", o.device};
      absl::StatusOr<std::unique_ptr<Bridge>> bridge = Bridge::FromArtifact(artifact, options);
      if (!bridge.ok()) return bridge.status();
      absl::StatusOr<std::vector<codec::Tensor>> out = (*bridge)->ApplyBatch(inputs);
      if (!out.ok()) return out.status();
      absl::Status status;
      const double seconds = TimePerCall(
          [&] {
            absl::StatusOr<std::vector<codec::Tensor>> o2 = (*bridge)->ApplyBatch(inputs);
            if (!o2.ok()) status = o2.status();
          },
          o.min_seconds);
      if (!status.ok()) return status;
      BridgeBenchRow row;
      row.kind = kind;
      row.kernels = (*bridge)->kernels();
      row.translations_per_second = static_cast<double>(o.packets) / seconds;
      row.rows_per_second = rows / seconds;
      row.bridge_gflops = flops / seconds * 1e-9;
      row.matmul_gflops = flops / (k == "cuda" ? device_matmul_seconds : matmul_seconds) * 1e-9;
      row.ratio = row.bridge_gflops / row.matmul_gflops;
      if (k == "blas") {
        blas_out = *std::move(out);
        blas_seconds = seconds;
      } else {
        row.vs_blas = blas_seconds / seconds;
        row.rel_error = RelativeError(*out, blas_out);
      }
      result.push_back(row);
    }
    return absl::OkStatus();
  };
  for (const char* kind : {"affine", "procrustes", "adapter"}) {
    BridgeArtifact artifact;
    BridgeMetadata& m = artifact.metadata;
    m.kind = kind;
    m.src_dim = ds;
    m.dst_dim = dt;
    artifact.tensors["src_mean"] = RandomTensor({ds}, &rng);
    artifact.tensors["src_std"] = RandomTensor({ds}, &rng, 1.0f, 0.1f);
    artifact.tensors["map"] = RandomTensor({ds, dt}, &rng, 0.0f, 0.05f);
    if (m.kind == "adapter") {
      const uint32_t r = static_cast<uint32_t>(o.adapter_rank);
      artifact.tensors["bias"] = RandomTensor({dt}, &rng);
      artifact.tensors["up"] = RandomTensor({ds, r}, &rng, 0.0f, 0.05f);
      artifact.tensors["up_bias"] = RandomTensor({r}, &rng);
      artifact.tensors["down"] = RandomTensor({r, dt}, &rng, 0.0f, 0.05f);
    } else {
      artifact.tensors["dst_mean"] = RandomTensor({dt}, &rng);
      artifact.tensors["dst_std"] = RandomTensor({dt}, &rng, 1.0f, 0.1f);
    }
    if (absl::Status s = measure(kind, artifact); !s.ok()) return s;
  }
  for (const std::string& path : o.artifacts) {
    absl::StatusOr<BridgeArtifact> artifact = ReadBridgeArtifact(path);
    if (!artifact.ok()) return artifact.status();
    if (artifact->metadata.src_dim != o.src_dim || artifact->metadata.dst_dim != o.dst_dim) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, " maps ", artifact->metadata.src_dim, " -> ",
                       artifact->metadata.dst_dim, "; run with --src-dim ",
                       artifact->metadata.src_dim, " --dst-dim ", artifact->metadata.dst_dim));
    }
    if (!artifact->tensors.count("src_mean")) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": a ", artifact->metadata.kind, " bridge is not measured here"));
    }
    absl::Status s = measure(absl::StrCat(artifact->metadata.kind, " (", path, ")"), *artifact);
    if (!s.ok()) return s;
  }
  return result;
}

}  // namespace latentbus::bridge
