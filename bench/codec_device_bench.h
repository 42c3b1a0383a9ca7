// `latentbus bench codec --device cuda`: the device codec (codec/cuda) next to a device
// memcpy of the same floats, a copy of them to the host, and the CPU codec, all in the
// same run.
#ifndef LATENTBUS_BENCH_CODEC_DEVICE_BENCH_H_
#define LATENTBUS_BENCH_CODEC_DEVICE_BENCH_H_

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

struct CodecDeviceBenchOptions {
  // Synthetic hidden states of these shapes, unless `data` is set (as CodecBenchOptions).
  std::vector<std::vector<uint32_t>> shapes = {{32, 576}, {512, 4096}};
  std::optional<codec::Tensor> data;
  std::string data_name;
  // Empty: int8/g32, int4/g32 and int4/g128, each without rotation, with +rot and +rot64.
  std::vector<codec::Encoding> encodings;
  TimingOptions timing;
};

// FailedPrecondition without a usable device (or a build without CUDA). The JSON has
// "device", and per shape "device_memcpy_gbps" (device to device), "to_host_gbps" (the
// floats copied to the host, what the CPU path starts with) and per encoding
// "device_quant_gbps" / "device_dequant_gbps" (packet from / to device memory, copies of
// payload and scales and the host's checksum included), their ratios to the device
// memcpy, "cpu_quant_gbps" / "cpu_dequant_gbps" (the CPU codec on host memory) and
// "identical_to_cpu" (packet bytes and decoded floats equal the CPU codec's).
absl::StatusOr<nlohmann::json> RunCodecDeviceBench(const CodecDeviceBenchOptions& options,
                                                   std::ostream* progress);

void PrintCodecDeviceBenchTable(const nlohmann::json& result, std::ostream& out);

}  // namespace latentbus::bench

#endif  // LATENTBUS_BENCH_CODEC_DEVICE_BENCH_H_
