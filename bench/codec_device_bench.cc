#include "bench/codec_device_bench.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <iomanip>

#include "absl/strings/str_cat.h"
#include "codec/cuda/device_codec.h"
#include "codec/packet.h"
#include "codec/synthetic.h"

namespace latentbus::bench {
namespace {

using codec::DType;
using codec::Encoding;
using codec::RotationKind;

std::vector<Encoding> DefaultDeviceEncodings() {
  std::vector<Encoding> out;
  for (RotationKind rotation :
       {RotationKind::kNone, RotationKind::kHadamard, RotationKind::kHadamard64}) {
    for (const auto& [dtype, group] : {std::pair{DType::kInt8, 32u}, std::pair{DType::kInt4, 32u},
                                       std::pair{DType::kInt4, 128u}}) {
      Encoding e{dtype, group, rotation, 0};
      if (codec::IsRotated(rotation)) e.rotation_seed = codec::kDefaultRotationSeed;
      out.push_back(e);
    }
  }
  return out;
}

double Gbps(size_t bytes, double seconds) { return static_cast<double>(bytes) / seconds / 1e9; }

}  // namespace

absl::StatusOr<nlohmann::json> RunCodecDeviceBench(const CodecDeviceBenchOptions& options,
                                                   std::ostream* progress) {
  if (absl::Status s = codec::cuda::CheckDevice(); !s.ok()) return s;
  const std::vector<Encoding> encodings =
      options.encodings.empty() ? DefaultDeviceEncodings() : options.encodings;
  nlohmann::json result;
  result["device"] = codec::cuda::DeviceDescription();
  result["cpu_kernels"] = codec::DefaultKernels().name;
  result["data"] = options.data.has_value()
                       ? options.data_name
                       : std::string("synthetic hidden states: N(0,1) with 4 outlier channels x20");
  result["timing"] = {
      {"statistic", "median; x device memcpy is the median ratio of paired samples"},
      {"samples", options.timing.samples},
      {"min_sample_seconds", options.timing.min_sample_seconds}};
  result["results"] = nlohmann::json::array();
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
    const size_t n = t.data.size();
    const size_t bytes = n * sizeof(float);
    absl::StatusOr<codec::cuda::DeviceBuffer> src = codec::cuda::DeviceBuffer::Allocate(bytes);
    if (!src.ok()) return src.status();
    absl::StatusOr<codec::cuda::DeviceBuffer> dst = codec::cuda::DeviceBuffer::Allocate(bytes);
    if (!dst.ok()) return dst.status();
    if (absl::Status s = src->CopyFromHost(t.data.data(), bytes); !s.ok()) return s;
    absl::Status failure;
    const auto keep = [&failure](absl::Status s) {
      if (!s.ok() && failure.ok()) failure = s;
    };
    const std::function<void()> device_memcpy = [&] { keep(dst->CopyFromDevice(*src, bytes)); };
    std::vector<float> host(n);
    const double to_host =
        MedianSecondsPerCall([&] { keep(src->CopyToHost(host.data(), bytes)); }, options.timing);
    nlohmann::json row;
    row["shape"] = shape;
    row["float_bytes"] = bytes;
    row["to_host_gbps"] = Gbps(bytes, to_host);
    row["encodings"] = nlohmann::json::object();
    if (progress)
      *progress << "bench codec --device cuda: shape " << codec::ShapeString(shape) << std::endl;
    std::vector<double> memcpy_samples;
    for (const Encoding& e : encodings) {
      codec::Packet device_packet, cpu_packet;
      if (absl::Status s =
              codec::cuda::EncodeFromDevice(src->floats(), n, t.shape, e, &device_packet);
          !s.ok()) {
        return s;
      }
      if (absl::Status s = codec::EncodeInto(t.data, t.shape, e, &cpu_packet); !s.ok()) return s;
      std::vector<float> cpu_decoded(n), device_decoded(n);
      if (absl::Status s = codec::DecodeInto(cpu_packet, absl::MakeSpan(cpu_decoded)); !s.ok()) {
        return s;
      }
      if (absl::Status s = codec::cuda::DecodeToDevice(cpu_packet, dst->floats(), n); !s.ok()) {
        return s;
      }
      if (absl::Status s = dst->CopyToHost(device_decoded.data(), bytes); !s.ok()) return s;
      const bool identical = device_packet.payload == cpu_packet.payload &&
                             device_packet.scales == cpu_packet.scales &&
                             device_packet.checksum == cpu_packet.checksum &&
                             std::memcmp(device_decoded.data(), cpu_decoded.data(), bytes) == 0;

      const PairedTiming quant = MedianPaired(
          [&] {
            keep(codec::cuda::EncodeFromDevice(src->floats(), n, t.shape, e, &device_packet));
          },
          device_memcpy, options.timing);
      const PairedTiming dequant =
          MedianPaired([&] { keep(codec::cuda::DecodeToDevice(cpu_packet, dst->floats(), n)); },
                       device_memcpy, options.timing);
      const double cpu_quant = MedianSecondsPerCall(
          [&] { keep(codec::EncodeInto(t.data, t.shape, e, &cpu_packet)); }, options.timing);
      const double cpu_dequant = MedianSecondsPerCall(
          [&] { keep(codec::DecodeInto(cpu_packet, absl::MakeSpan(cpu_decoded))); },
          options.timing);
      if (!failure.ok()) return failure;
      memcpy_samples.push_back(quant.baseline_seconds);
      memcpy_samples.push_back(dequant.baseline_seconds);
      row["encodings"][codec::EncodingName(e)] = {
          {"device_quant_gbps", Gbps(bytes, quant.seconds)},
          {"device_dequant_gbps", Gbps(bytes, dequant.seconds)},
          {"quant_vs_device_memcpy", quant.speed_ratio},
          {"dequant_vs_device_memcpy", dequant.speed_ratio},
          {"cpu_quant_gbps", Gbps(bytes, cpu_quant)},
          {"cpu_dequant_gbps", Gbps(bytes, cpu_dequant)},
          {"device_vs_cpu_quant", cpu_quant / quant.seconds},
          {"device_vs_cpu_dequant", cpu_dequant / dequant.seconds},
          {"identical_to_cpu", identical},
      };
      if (progress) {
        *progress << "  " << std::left << std::setw(18) << codec::EncodingName(e) << std::right
                  << " device quant " << std::setw(8) << Gbps(bytes, quant.seconds) << " GB/s, cpu "
                  << std::setw(8) << Gbps(bytes, cpu_quant) << " GB/s"
                  << (identical ? "" : "  NOT IDENTICAL to the CPU codec") << std::endl;
      }
    }
    std::sort(memcpy_samples.begin(), memcpy_samples.end());
    row["device_memcpy_gbps"] = Gbps(bytes, memcpy_samples[memcpy_samples.size() / 2]);
    result["results"].push_back(row);
  }
  return result;
}

void PrintCodecDeviceBenchTable(const nlohmann::json& result, std::ostream& out) {
  out << "device codec (GB/s of float data, median), " << result["device"].get<std::string>()
      << "; CPU kernels " << result["cpu_kernels"].get<std::string>() << "\n"
      << "data: " << result["data"].get<std::string>() << "\n";
  for (const auto& row : result["results"]) {
    out << "\nshape " << codec::ShapeString(row["shape"].get<std::vector<uint32_t>>()) << " ("
        << row["float_bytes"].get<size_t>() << " bytes as fp32), device memcpy " << std::fixed
        << std::setprecision(1) << row["device_memcpy_gbps"].get<double>() << " GB/s, to host "
        << row["to_host_gbps"].get<double>() << " GB/s\n";
    out << std::left << std::setw(20) << "encoding" << std::right << std::setw(10) << "quant"
        << std::setw(8) << "x mcpy" << std::setw(9) << "x cpu" << std::setw(10) << "dequant"
        << std::setw(8) << "x mcpy" << std::setw(9) << "x cpu" << std::setw(11) << "same bytes"
        << "\n";
    for (const auto& [name, e] : row["encodings"].items()) {
      out << std::left << std::setw(20) << name << std::right << std::setprecision(1)
          << std::setw(10) << e["device_quant_gbps"].get<double>() << std::setprecision(2)
          << std::setw(8) << e["quant_vs_device_memcpy"].get<double>() << std::setw(9)
          << e["device_vs_cpu_quant"].get<double>() << std::setprecision(1) << std::setw(10)
          << e["device_dequant_gbps"].get<double>() << std::setprecision(2) << std::setw(8)
          << e["dequant_vs_device_memcpy"].get<double>() << std::setw(9)
          << e["device_vs_cpu_dequant"].get<double>() << std::setw(11)
          << (e["identical_to_cpu"].get<bool>() ? "yes" : "NO") << "\n";
    }
  }
}

}  // namespace latentbus::bench
