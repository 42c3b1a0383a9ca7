// `latentbus bench codec`: codec throughput next to memcpy of the same bytes, measured
// in the same run.
#ifndef LATENTBUS_BENCH_CODEC_BENCH_H_
#define LATENTBUS_BENCH_CODEC_BENCH_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/timing.h"
#include "codec/encoding.h"
#include "codec/tensor.h"
#include "nlohmann/json.hpp"

namespace latentbus::bench {

struct CodecBenchOptions {
  // Synthetic hidden states of these shapes (N(0, 1), 4 outlier channels x20), unless
  // `data` is set.
  std::vector<std::vector<uint32_t>> shapes = {{32, 576}, {32, 4096}, {512, 4096}};
  // Real data instead ([rows, width], e.g. a model's hidden states from an activation
  // file) and what to call it in the report.
  std::optional<codec::Tensor> data;
  std::string data_name;
  // Empty: fp32, fp16, bf16, int8/g32, int8/g128, int4/g32, int4/g128, each without
  // rotation, with +rot and with +rot64.
  std::vector<codec::Encoding> encodings;
  TimingOptions timing;
};

// Runs every (shape, encoding) case. Progress lines go to `progress` when not null.
// The JSON has "memcpy_gbps" (largest shape) and "results": per shape its
// "memcpy_gbps", "top_channels" (the 4 channels of largest magnitude) and per encoding
// name "quant_gbps", "dequant_gbps", "wire_bytes", "rel_error" (relative L2 error of the
// decoded tensor), "rel_error_rest" (the same without the top channels: what happens to
// the ordinary channels), plus ratios to memcpy.
absl::StatusOr<nlohmann::json> RunCodecBench(const CodecBenchOptions& options,
                                             std::ostream* progress);

// The human-readable table of a RunCodecBench result.
void PrintCodecBenchTable(const nlohmann::json& result, std::ostream& out);

}  // namespace latentbus::bench

#endif  // LATENTBUS_BENCH_CODEC_BENCH_H_
