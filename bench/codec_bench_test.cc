// The benchmark's output contract (keys outside tools read), on a tiny, fast run.
#include "bench/codec_bench.h"

#include <gtest/gtest.h>

namespace latentbus::bench {
namespace {

TEST(CodecBenchTest, JsonHasTheDocumentedKeys) {
  CodecBenchOptions options;
  options.shapes = {{4, 64}};
  options.encodings = {*codec::ParseEncoding("int4/g32"), *codec::ParseEncoding("fp16+rot")};
  options.timing.samples = 1;
  options.timing.min_sample_seconds = 0.001;
  absl::StatusOr<nlohmann::json> r = RunCodecBench(options, nullptr);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->contains("memcpy_gbps"));
  EXPECT_GT((*r)["memcpy_gbps"].get<double>(), 0.0);
  const auto& row = (*r)["results"][0];
  for (const char* name : {"int4/g32", "fp16+rot"}) {
    ASSERT_TRUE(row["encodings"].contains(name)) << name;
    const auto& e = row["encodings"][name];
    for (const char* key : {"quant_gbps", "dequant_gbps", "wire_bytes", "rel_error"}) {
      EXPECT_TRUE(e.contains(key)) << name << "." << key;
    }
    EXPECT_GT(e["quant_gbps"].get<double>(), 0.0);
  }
  // int4 of 256 floats: 128 payload bytes + 8 scales * 4 bytes + header.
  const size_t wire = row["encodings"]["int4/g32"]["wire_bytes"].get<size_t>();
  EXPECT_GE(wire, 160u);
  EXPECT_LT(wire, 200u);
  EXPECT_LT(row["encodings"]["fp16+rot"]["rel_error"].get<double>(), 1e-3);
}

TEST(CodecBenchTest, RejectsBadShapes) {
  CodecBenchOptions options;
  options.shapes = {{4, 64, 2}};
  EXPECT_FALSE(RunCodecBench(options, nullptr).ok());
}

}  // namespace
}  // namespace latentbus::bench
