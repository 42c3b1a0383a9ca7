// `latentbus bench bridge --device cuda` for the standalone GPU build (the CLI needs gRPC
// and the rest): bridge/bridge_bench.h with the bridges also on the GPU, rows on stdout,
// JSON in a file. Exit 1 when a GPU row's error against the CPU's blas row exceeds the
// documented tolerance (docs/GPU.md: 1e-4 relative RMS).
//   bridge_device_bench OUT.json [ARTIFACT.bridge ...]
#include <fstream>
#include <iostream>

#include "bridge/bridge_bench.h"
#include "nlohmann/json.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: bridge_device_bench OUT.json [ARTIFACT.bridge ...]\n";
    return 2;
  }
  latentbus::bridge::BridgeBenchOptions options;
  options.device = "cuda";
  options.kernels = {"blas"};
  for (int i = 2; i < argc; ++i) options.artifacts.push_back(argv[i]);
  absl::StatusOr<std::vector<latentbus::bridge::BridgeBenchRow>> rows =
      latentbus::bridge::RunBridgeBench(options);
  if (!rows.ok()) {
    std::cerr << "error: " << rows.status() << "\n";
    return 1;
  }
  nlohmann::json out = nlohmann::json::array();
  int failures = 0;
  for (const latentbus::bridge::BridgeBenchRow& r : *rows) {
    out.push_back({{"kind", r.kind},
                   {"kernels", r.kernels},
                   {"packets", options.packets},
                   {"tokens", options.tokens},
                   {"translations_per_second", r.translations_per_second},
                   {"bridge_gflops", r.bridge_gflops},
                   {"matmul_gflops", r.matmul_gflops},
                   {"ratio", r.ratio},
                   {"vs_blas", r.vs_blas},
                   {"rel_error", r.rel_error}});
    std::cout << r.kind << " " << r.kernels << ": " << r.translations_per_second
              << " translations/s, " << r.bridge_gflops << " GFLOP/s vs bare product "
              << r.matmul_gflops << " GFLOP/s";
    if (r.kernels == "cuda") {
      std::cout << ", " << r.vs_blas << "x the CPU, error " << r.rel_error;
      if (!(r.rel_error <= 1e-4)) {
        std::cout << "  FAIL (tolerance 1e-4)";
        ++failures;
      }
    }
    std::cout << "\n";
  }
  std::ofstream(argv[1]) << out.dump(2) << "\n";
  return failures == 0 ? 0 : 1;
}
