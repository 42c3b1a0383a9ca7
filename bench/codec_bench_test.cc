// The benchmark's output contract (keys outside tools read), on a tiny, fast run.
#include "bench/codec_bench.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>

#include "codec/synthetic.h"

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

// Given data replaces the synthetic shapes; the error without the largest channels is
// measured on the ordinary ones: with one huge channel, int4/g32 zeroes the rest of its
// group, and the rotation across the row spreads the huge value into every channel.
TEST(CodecBenchTest, MeasuresGivenDataAndTheErrorOfTheOrdinaryChannels) {
  CodecBenchOptions options;
  codec::Tensor t = codec::GaussianTensor(8, 512, 3);
  for (uint32_t r = 0; r < 8; ++r) t.data[r * 512 + 70] = 5000.0f;
  options.data = t;
  options.data_name = "one huge channel";
  options.encodings = {*codec::ParseEncoding("int4/g32"), *codec::ParseEncoding("int4/g32+rot"),
                       *codec::ParseEncoding("int4/g32+rot64")};
  options.timing.samples = 1;
  options.timing.min_sample_seconds = 0.001;
  absl::StatusOr<nlohmann::json> r = RunCodecBench(options, nullptr);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)["data"], "one huge channel");
  ASSERT_EQ((*r)["results"].size(), 1u);
  const auto& row = (*r)["results"][0];
  EXPECT_EQ(row["shape"], (std::vector<uint32_t>{8, 512}));
  const auto top = row["top_channels"].get<std::vector<uint32_t>>();
  ASSERT_EQ(top.size(), 4u);
  EXPECT_NE(std::find(top.begin(), top.end(), 70u), top.end());
  const auto rest = [&](const char* name) {
    return row["encodings"][name]["rel_error_rest"].get<double>();
  };
  std::cout << "error of the ordinary channels next to one huge channel: int4/g32 "
            << rest("int4/g32") << ", +rot " << rest("int4/g32+rot") << ", +rot64 "
            << rest("int4/g32+rot64") << "\n";
  EXPECT_LT(rest("int4/g32"), 0.4);
  EXPECT_GT(rest("int4/g32+rot"), 2 * rest("int4/g32"));
  EXPECT_LT(rest("int4/g32+rot64"), 0.5 * rest("int4/g32+rot"));
}

TEST(CodecBenchTest, RejectsBadShapes) {
  CodecBenchOptions options;
  options.shapes = {{4, 64, 2}};
  EXPECT_FALSE(RunCodecBench(options, nullptr).ok());
}

}  // namespace
}  // namespace latentbus::bench
