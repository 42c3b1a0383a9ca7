// `latentbus bench codec`: codec throughput next to memcpy of the same bytes, measured
// in the same run.
#ifndef LATENTBUS_BENCH_CODEC_BENCH_H_
#define LATENTBUS_BENCH_CODEC_BENCH_H_

#include <cstdint>
#include <ostream>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/timing.h"
#include "codec/encoding.h"
#include "nlohmann/json.hpp"

namespace latentbus::bench {

struct CodecBenchOptions {
  std::vector<std::vector<uint32_t>> shapes = {{32, 576}, {32, 4096}, {512, 4096}};
  // Empty: fp32, fp16, bf16, int8/g32, int8/g128, int4/g32, int4/g128, each with and
  // without rotation.
  std::vector<codec::Encoding> encodings;
  TimingOptions timing;
};

// Runs every (shape, encoding) case. Progress lines go to `progress` when not null.
// The JSON has "memcpy_gbps" (largest shape) and "results": per shape its
// "memcpy_gbps" and per encoding name "quant_gbps", "dequant_gbps", "wire_bytes",
// "rel_error" (on outlier-channel data), plus ratios to memcpy.
absl::StatusOr<nlohmann::json> RunCodecBench(const CodecBenchOptions& options,
                                             std::ostream* progress);

// The human-readable table of a RunCodecBench result.
void PrintCodecBenchTable(const nlohmann::json& result, std::ostream& out);

}  // namespace latentbus::bench

#endif  // LATENTBUS_BENCH_CODEC_BENCH_H_
