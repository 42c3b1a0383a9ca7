#include "bench/model_bench.h"

#include <torch/torch.h>

#include <iomanip>
#include <string>

#include "agent/llm/packed_kernels.h"
#include "broker/metrics.h"

namespace latentbus::bench {

double PrefillFlops(const agent::llm::ModelInfo& i, int64_t t) {
  const double d = static_cast<double>(i.hidden_size);
  const double q = static_cast<double>(i.num_heads * i.head_dim);
  const double kv = static_cast<double>(i.num_kv_heads * i.head_dim);
  const double ffn = static_cast<double>(i.ffn_size);
  const double tokens = static_cast<double>(t);
  const double projections = 2.0 * tokens * (d * q + 2.0 * d * kv + q * d + 3.0 * d * ffn);
  const double attention = 2.0 * 2.0 * tokens * tokens * q;  // QK^T and PV, unmasked
  return static_cast<double>(i.num_layers) * (projections + attention) +
         2.0 * d * static_cast<double>(i.vocab_size);
}

absl::StatusOr<nlohmann::json> RunModelBench(const agent::llm::Model& model,
                                             const ModelBenchOptions& options,
                                             std::ostream* progress) {
  const agent::llm::ModelInfo& info = model.info();
  nlohmann::json result;
  result["model_id"] = info.model_id;
  result["threads"] = info.threads;
  result["device"] = info.device;
  result["weight_bytes"] = info.weight_bytes;
  result["quantized"] = info.quantized;
  result["kernels"] = info.quantized ? agent::llm::BestPackedKernels().name : "libtorch";
  result["int8_activations"] = info.int8_activations;
  result["resident_bytes_at_start"] = static_cast<size_t>(broker::ResidentBytes());
  result["timing"] = {{"statistic", "median; x matmul from paired samples"},
                      {"samples", options.timing.samples}};

  // Baseline: the MLP's up projection at the longest prefill length, timed in samples
  // alternating with each prefill.
  const int64_t t_max =
      *std::max_element(options.prefill_tokens.begin(), options.prefill_tokens.end());
  // On the model's device; on a GPU the product is waited for (the prefill's logits come
  // back to the host, which waits too).
  torch::NoGradGuard no_grad;
  const torch::Device device(info.device);
  const torch::Tensor a = torch::randn({t_max, info.hidden_size}).to(device);
  const torch::Tensor b = torch::randn({info.ffn_size, info.hidden_size}).to(device);
  const double matmul_flops = 2.0 * static_cast<double>(t_max * info.hidden_size * info.ffn_size);
  const std::function<void()> matmul = [&] {
    torch::Tensor c = torch::linear(a, b);
    if (!device.is_cpu()) (void)c.select(0, 0).select(0, 0).item<float>();
  };
  result["matmul_shape"] = {t_max, info.hidden_size, info.ffn_size};

  result["prefill"] = nlohmann::json::array();
  std::vector<double> matmul_seconds;
  for (int t : options.prefill_tokens) {
    std::vector<int32_t> ids(static_cast<size_t>(t));
    for (int k = 0; k < t; ++k) ids[static_cast<size_t>(k)] = 100 + (k * 7919) % 1000;
    absl::Status failure;
    const PairedTiming timing = MedianPaired(
        [&] {
          absl::StatusOr<agent::llm::ForwardResult> r =
              model.Forward({agent::llm::PromptSegment::Tokens(ids)}, {}, false);
          if (!r.ok()) failure = r.status();
        },
        matmul, options.timing);
    if (!failure.ok()) return failure;
    matmul_seconds.push_back(timing.baseline_seconds);
    const double flops = PrefillFlops(info, t);
    const double gflops = flops / timing.seconds / 1e9;
    const double vs_matmul = timing.speed_ratio * flops / matmul_flops;
    result["prefill"].push_back({{"tokens", t},
                                 {"seconds", timing.seconds},
                                 {"tok_s", t / timing.seconds},
                                 {"gflops", gflops},
                                 {"matmul_gflops", matmul_flops / timing.baseline_seconds / 1e9},
                                 {"vs_matmul", vs_matmul}});
    result["prefill_tok_s"] = t / timing.seconds;
    result["prefill_gflops"] = gflops;
    result["prefill_vs_matmul"] = vs_matmul;
    if (progress) {
      *progress << "bench model: prefill " << t << " tokens " << t / timing.seconds << " tok/s, "
                << gflops << " GFLOP/s, " << vs_matmul << "x the bare matmul" << std::endl;
    }
  }
  std::sort(matmul_seconds.begin(), matmul_seconds.end());
  result["matmul_gflops"] = matmul_flops / matmul_seconds[matmul_seconds.size() / 2] / 1e9;

  agent::llm::GenerateOptions gen;
  gen.max_new_tokens = options.decode_tokens;
  gen.ignore_eos = true;
  std::vector<double> rates;
  for (int k = 0; k < std::max(1, options.timing.samples); ++k) {
    absl::StatusOr<agent::llm::GenerateResult> r = model.Generate(
        {agent::llm::PromptSegment::Text("The quick brown fox jumps over the lazy dog.")}, gen);
    if (!r.ok()) return r.status();
    rates.push_back(static_cast<double>(r->tokens.size()) / r->decode_seconds);
  }
  std::sort(rates.begin(), rates.end());
  result["decode_tokens"] = options.decode_tokens;
  result["decode_tok_s"] = rates[rates.size() / 2];
  result["resident_bytes_at_end"] = static_cast<size_t>(broker::ResidentBytes());
  return result;
}

void PrintModelBenchTable(const nlohmann::json& r, std::ostream& out) {
  out << "model " << r["model_id"].get<std::string>() << " on " << r["device"].get<std::string>()
      << ", " << r["threads"] << " threads (medians); weights "
      << (r["quantized"].get<bool>() ? "quantized" : "float32") << ", "
      << r["weight_bytes"].get<size_t>() / 1000000 << " MB, kernels "
      << r["kernels"].get<std::string>()
      << (r.value("int8_activations", false) ? ", int8 activations" : "") << "; resident "
      << r["resident_bytes_at_end"].get<size_t>() / 1000000 << " MB\n"
      << std::fixed << std::setprecision(1) << "bare matmul " << r["matmul_shape"] << ": "
      << r["matmul_gflops"].get<double>() << " GFLOP/s\n";
  for (const auto& p : r["prefill"]) {
    out << "prefill " << std::setw(4) << p["tokens"].get<int>() << " tokens: " << std::setw(8)
        << p["tok_s"].get<double>() << " tok/s " << std::setw(8) << p["gflops"].get<double>()
        << " GFLOP/s (" << std::setprecision(2) << p["vs_matmul"].get<double>() << "x matmul)"
        << std::setprecision(1) << "\n";
  }
  out << "decode: " << r["decode_tok_s"].get<double>() << " tok/s over "
      << r["decode_tokens"].get<int>() << " tokens\n";
}

}  // namespace latentbus::bench
