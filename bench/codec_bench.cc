#include "bench/codec_bench.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iomanip>

#include "absl/strings/str_cat.h"
#include "codec/kernels.h"
#include "codec/packet.h"
#include "codec/packet_proto.h"
#include "codec/synthetic.h"
#include "codec/tensor.h"

namespace latentbus::bench {
namespace {

using codec::DType;
using codec::Encoding;
using codec::RotationKind;

std::vector<Encoding> DefaultEncodings() {
  std::vector<Encoding> out;
  const Encoding base[] = {
      {DType::kFp32, 0, RotationKind::kNone, 0},   {DType::kFp16, 0, RotationKind::kNone, 0},
      {DType::kBf16, 0, RotationKind::kNone, 0},   {DType::kInt8, 32, RotationKind::kNone, 0},
      {DType::kInt8, 128, RotationKind::kNone, 0}, {DType::kInt4, 32, RotationKind::kNone, 0},
      {DType::kInt4, 128, RotationKind::kNone, 0},
  };
  for (RotationKind rotation :
       {RotationKind::kNone, RotationKind::kHadamard, RotationKind::kHadamard64}) {
    for (Encoding e : base) {
      if (codec::IsRotated(rotation)) {
        e.rotation = rotation;
        e.rotation_seed = codec::kDefaultRotationSeed;
      }
      out.push_back(e);
    }
  }
  return out;
}

inline void ClobberMemory() { asm volatile("" : : : "memory"); }

// Page-aligned float buffer. The memcpy baseline copies between two page-aligned
// buffers: with malloc'd buffers whose addresses differ by a few bytes modulo 4096,
// glibc's `rep movsb` path runs ~20x slower on AMD Zen (seen here: 1.8 vs 39 GB/s for
// 72 KiB), which would flatter every ratio.
struct AlignedFloats {
  explicit AlignedFloats(size_t n)
      : data(static_cast<float*>(
            std::aligned_alloc(4096, (n * sizeof(float) + 4095) / 4096 * 4096))),
        size(n) {}
  ~AlignedFloats() { std::free(data); }
  AlignedFloats(const AlignedFloats&) = delete;
  AlignedFloats& operator=(const AlignedFloats&) = delete;
  absl::Span<float> span() { return absl::MakeSpan(data, size); }
  float* data;
  size_t size;
};

double Gbps(size_t bytes, double seconds) { return static_cast<double>(bytes) / seconds / 1e9; }

// The `count` channels of `t` ([rows, width]) with the largest absolute values, sorted.
std::vector<uint32_t> TopChannels(const codec::Tensor& t, size_t count) {
  const size_t width = t.shape.back();
  std::vector<float> absmax(width, 0.0f);
  for (size_t i = 0; i < t.data.size(); ++i) {
    absmax[i % width] = std::max(absmax[i % width], std::fabs(t.data[i]));
  }
  std::vector<uint32_t> channels(width);
  for (uint32_t c = 0; c < width; ++c) channels[c] = c;
  count = std::min(count, width);
  std::partial_sort(channels.begin(), channels.begin() + count, channels.end(),
                    [&](uint32_t a, uint32_t b) { return absmax[a] > absmax[b]; });
  channels.resize(count);
  std::sort(channels.begin(), channels.end());
  return channels;
}

}  // namespace

absl::StatusOr<nlohmann::json> RunCodecBench(const CodecBenchOptions& options,
                                             std::ostream* progress) {
  const std::vector<Encoding> encodings =
      options.encodings.empty() ? DefaultEncodings() : options.encodings;
  nlohmann::json result;
  result["kernels"] = codec::DefaultKernels().name;
  result["data"] = options.data.has_value()
                       ? options.data_name
                       : std::string("synthetic hidden states: N(0,1) with 4 outlier channels x20");
  result["timing"] = {{"statistic", "median; x memcpy is the median ratio of paired samples"},
                      {"samples", options.timing.samples},
                      {"min_sample_seconds", options.timing.min_sample_seconds}};
  result["results"] = nlohmann::json::array();
  double largest_memcpy = 0;
  size_t largest_elements = 0;
  const std::vector<std::vector<uint32_t>> shapes =
      options.data.has_value() ? std::vector<std::vector<uint32_t>>{options.data->shape}
                               : options.shapes;
  for (const std::vector<uint32_t>& shape : shapes) {
    if (shape.size() != 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("bench shapes are [rows, width], got ", codec::ShapeString(shape)));
    }
    const codec::Tensor t =
        options.data.has_value() ? *options.data : codec::OutlierTensor(shape[0], shape[1], 42);
    const std::vector<uint32_t> top = TopChannels(t, 4);
    const size_t n = t.data.size();
    const size_t float_bytes = n * sizeof(float);
    AlignedFloats src(n), dst(n);
    std::copy(t.data.begin(), t.data.end(), src.data);
    AlignedFloats copy_dst(n);
    const std::function<void()> memcpy_op = [&] {
      std::memcpy(copy_dst.data, src.data, float_bytes);
      ClobberMemory();
    };
    std::vector<double> memcpy_samples;  // per encoding, from the paired timings
    nlohmann::json row;
    row["shape"] = shape;
    row["top_channels"] = top;
    row["float_bytes"] = float_bytes;
    row["encodings"] = nlohmann::json::object();
    if (progress) *progress << "bench codec: shape " << codec::ShapeString(shape) << std::endl;
    for (const Encoding& e : encodings) {
      codec::Packet packet;
      if (absl::Status s = codec::EncodeInto(src.span(), t.shape, e, &packet); !s.ok()) return s;
      absl::Span<float> decoded = dst.span();
      if (absl::Status s = codec::DecodeInto(packet, decoded); !s.ok()) return s;
      const double rel_error = codec::RelativeError(t, decoded);
      const double rel_error_rest = codec::RelativeError(t, decoded, top);

      absl::Status failure;
      const PairedTiming quant = MedianPaired(
          [&] {
            if (absl::Status s = codec::EncodeInto(src.span(), t.shape, e, &packet); !s.ok()) {
              failure = s;
            }
            ClobberMemory();
          },
          memcpy_op, options.timing);
      const PairedTiming dequant = MedianPaired(
          [&] {
            if (absl::Status s = codec::DecodeInto(packet, decoded); !s.ok()) failure = s;
            ClobberMemory();
          },
          memcpy_op, options.timing);
      if (!failure.ok()) return failure;
      memcpy_samples.push_back(quant.baseline_seconds);
      memcpy_samples.push_back(dequant.baseline_seconds);
      const size_t wire_bytes = codec::WireBytes(codec::ToProto(packet));
      const double quant_gbps = Gbps(float_bytes, quant.seconds);
      const double dequant_gbps = Gbps(float_bytes, dequant.seconds);
      row["encodings"][codec::EncodingName(e)] = {
          {"quant_gbps", quant_gbps},
          {"dequant_gbps", dequant_gbps},
          {"memcpy_gbps", Gbps(float_bytes, quant.baseline_seconds)},
          {"quant_vs_memcpy", quant.speed_ratio},
          {"dequant_vs_memcpy", dequant.speed_ratio},
          {"wire_bytes", wire_bytes},
          {"compression", static_cast<double>(float_bytes) / static_cast<double>(wire_bytes)},
          {"rel_error", rel_error},
          {"rel_error_rest", rel_error_rest},
      };
      if (progress) {
        *progress << "  " << std::left << std::setw(16) << codec::EncodingName(e) << std::right
                  << " quant " << std::setw(7) << quant_gbps << " GB/s  dequant " << std::setw(7)
                  << dequant_gbps << " GB/s" << std::endl;
      }
    }
    std::sort(memcpy_samples.begin(), memcpy_samples.end());
    const double memcpy_gbps = Gbps(float_bytes, memcpy_samples[memcpy_samples.size() / 2]);
    row["memcpy_gbps"] = memcpy_gbps;
    if (n > largest_elements) {
      largest_elements = n;
      largest_memcpy = memcpy_gbps;
    }
    result["results"].push_back(row);
  }
  result["memcpy_gbps"] = largest_memcpy;
  return result;
}

void PrintCodecBenchTable(const nlohmann::json& result, std::ostream& out) {
  out << "codec throughput (GB/s of float data, median), kernels: "
      << result["kernels"].get<std::string>() << "\n"
      << "data: " << result["data"].get<std::string>() << "\n";
  for (const auto& row : result["results"]) {
    const auto shape = row["shape"].get<std::vector<uint32_t>>();
    const double memcpy_gbps = row["memcpy_gbps"].get<double>();
    out << "\nshape " << codec::ShapeString(shape) << " (" << row["float_bytes"].get<size_t>()
        << " bytes as fp32), memcpy " << std::fixed << std::setprecision(2) << memcpy_gbps
        << " GB/s\n";
    out << std::left << std::setw(18) << "encoding" << std::right << std::setw(10) << "quant"
        << std::setw(8) << "x mcpy" << std::setw(10) << "dequant" << std::setw(8) << "x mcpy"
        << std::setw(11) << "wire B" << std::setw(8) << "ratio" << std::setw(11) << "rel err"
        << std::setw(11) << "rest err"
        << "\n";
    for (const auto& [name, e] : row["encodings"].items()) {
      out << std::left << std::setw(18) << name << std::right << std::setprecision(2)
          << std::setw(10) << e["quant_gbps"].get<double>() << std::setw(8)
          << e["quant_vs_memcpy"].get<double>() << std::setw(10) << e["dequant_gbps"].get<double>()
          << std::setw(8) << e["dequant_vs_memcpy"].get<double>() << std::setw(11)
          << e["wire_bytes"].get<size_t>() << std::setw(8) << e["compression"].get<double>()
          << std::setw(11) << std::setprecision(5) << e["rel_error"].get<double>() << std::setw(11)
          << e["rel_error_rest"].get<double>() << "\n";
    }
  }
  out << "\nrest err: the relative error without the 4 channels of largest magnitude (";
  bool first = true;
  for (const auto& row : result["results"]) {
    out << (first ? "" : "; ") << row["top_channels"].dump();
    first = false;
  }
  out << ")\n";
}

}  // namespace latentbus::bench
