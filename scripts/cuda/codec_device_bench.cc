// `latentbus bench codec --device cuda` for the standalone GPU build (the CLI needs gRPC
// and the rest, which a GPU machine of the device tool lacks): the same benchmark
// (bench/codec_device_bench.h), its table on stdout and its JSON in a file.
//   codec_device_bench OUT.json [--samples N] [--shape ROWSxWIDTH ...]
#include "bench/codec_device_bench.h"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: codec_device_bench OUT.json [--samples N] [--shape ROWSxWIDTH ...]\n";
    return 2;
  }
  latentbus::bench::CodecDeviceBenchOptions options;
  bool shapes_given = false;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--samples") {
      options.timing.samples = std::atoi(argv[i + 1]);
    } else if (flag == "--shape") {
      if (!shapes_given) options.shapes.clear();
      shapes_given = true;
      unsigned rows = 0, width = 0;
      if (std::sscanf(argv[i + 1], "%ux%u", &rows, &width) != 2 || rows == 0 || width == 0) {
        std::cerr << "bad --shape " << argv[i + 1] << "\n";
        return 2;
      }
      options.shapes.push_back({rows, width});
    } else {
      std::cerr << "unknown flag " << flag << "\n";
      return 2;
    }
  }
  absl::StatusOr<nlohmann::json> result =
      latentbus::bench::RunCodecDeviceBench(options, &std::cerr);
  if (!result.ok()) {
    std::cerr << "error: " << result.status() << "\n";
    return 1;
  }
  (*result)["command"] = "scripts/cuda codec_device_bench (latentbus bench codec --device cuda)";
  std::ofstream(argv[1]) << result->dump(2) << "\n";
  latentbus::bench::PrintCodecDeviceBenchTable(*result, std::cout);
  for (const auto& row : (*result)["results"]) {
    for (const auto& [name, e] : row["encodings"].items()) {
      if (!e["identical_to_cpu"].get<bool>()) {
        std::cerr << "FAIL: " << name << " differs from the CPU codec\n";
        return 1;
      }
    }
  }
  return 0;
}
