// The device codec against the CPU codec: the same packet bytes and the same decoded
// floats, on the inputs of the shared vectors (codec/testdata/vectors, whose packets the
// CPU codec reproduces: codec/vectors_test.cc) and on random tensors over the whole float
// range; the same errors for refused values and damaged packets. Needs a CUDA device: the
// tests skip without one, or fail when LATENTBUS_REQUIRE_CUDA=1 (scripts/cuda/check.sh).
#include "codec/cuda/device_codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "codec/kernels.h"
#include "codec/rotation.h"
#include "codec/synthetic.h"

namespace latentbus::codec::cuda {
namespace {

namespace fs = std::filesystem;

const fs::path kDir = LATENTBUS_CODEC_VECTORS;

// On the CPU stand-in for CUDA (codec/cuda/emulated_runtime.h) every warp is 32 host
// threads meeting at each shuffle, thousands of times slower than a GPU: the random tests
// run fewer and smaller cases there.
#if defined(LATENTBUS_CUDA_EMULATED)
constexpr bool kEmulated = true;
#define DEVICE_TEST(name) TEST(EmulatedDeviceCodecTest, name)
#else
constexpr bool kEmulated = false;
#define DEVICE_TEST(name) TEST(DeviceCodecTest, name)
#endif

// Skips the test without a device, unless the environment requires one.
#define REQUIRE_DEVICE()                                           \
  do {                                                             \
    if (absl::Status s = CheckDevice(); !s.ok()) {                 \
      const char* require = std::getenv("LATENTBUS_REQUIRE_CUDA"); \
      if (require != nullptr && std::string(require) == "1") {     \
        FAIL() << "LATENTBUS_REQUIRE_CUDA=1 and " << s;            \
      }                                                            \
      GTEST_SKIP() << s;                                           \
    }                                                              \
  } while (0)

std::vector<float> ReadFloats(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot open " << path;
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string bytes = buf.str();
  std::vector<float> v(bytes.size() / sizeof(float));
  std::memcpy(v.data(), bytes.data(), v.size() * sizeof(float));
  return v;
}

struct Case {
  std::string kind, name, shape, encoding, input, decoded;
};

// manifest.txt's lines (format in codec/vectors.h), read here without the protobuf
// packets: the CPU codec stands for them.
std::vector<Case> ManifestCases() {
  std::ifstream in(kDir / "manifest.txt");
  EXPECT_TRUE(in);
  std::vector<Case> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f = absl::StrSplit(line, ' ');
    if (f.size() != 8) {
      ADD_FAILURE() << "bad manifest line: " << line;
      continue;
    }
    out.push_back({f[0], f[1], f[2], f[3], f[4], f[6]});
  }
  return out;
}

std::vector<uint32_t> Shape(const std::string& text) {
  std::vector<uint32_t> shape;
  for (absl::string_view d : absl::StrSplit(text, 'x')) {
    uint32_t v = 0;
    EXPECT_TRUE(absl::SimpleAtoi(d, &v)) << text;
    shape.push_back(v);
  }
  return shape;
}

DeviceBuffer Upload(const std::vector<float>& data) {
  absl::StatusOr<DeviceBuffer> buffer = DeviceBuffer::Allocate(data.size() * sizeof(float));
  EXPECT_TRUE(buffer.ok()) << buffer.status();
  if (!buffer.ok()) return DeviceBuffer();
  EXPECT_TRUE(buffer->CopyFromHost(data.data(), data.size() * sizeof(float)).ok());
  return *std::move(buffer);
}

std::vector<float> DecodeOnDevice(const Packet& p, absl::Status* status) {
  const size_t n = NumElements(p.shape);
  std::vector<float> out(n);
  absl::StatusOr<DeviceBuffer> buffer = DeviceBuffer::Allocate(n * sizeof(float));
  if (!buffer.ok()) {
    *status = buffer.status();
    return out;
  }
  *status = DecodeToDevice(p, buffer->floats(), n);
  if (status->ok()) *status = buffer->CopyToHost(out.data(), n * sizeof(float));
  return out;
}

// Encodes `data` on the device and with the CPU's scalar reference, and decodes the CPU's
// packet on both: bytes and floats must be equal. Returns the device's packet.
void ExpectSameAsCpu(const std::vector<float>& data, const std::vector<uint32_t>& shape,
                     const Encoding& e, const std::string& what) {
  Packet cpu;
  const absl::Status cpu_status = EncodeInto(data, shape, e, &cpu, &ScalarKernels());
  DeviceBuffer input = Upload(data);
  Packet device;
  const absl::Status device_status =
      EncodeFromDevice(input.floats(), data.size(), shape, e, &device);
  ASSERT_EQ(device_status.code(), cpu_status.code())
      << what << ": device " << device_status << ", CPU " << cpu_status;
  if (!cpu_status.ok()) {
    EXPECT_EQ(device_status.message(), cpu_status.message()) << what;
    return;
  }
  EXPECT_TRUE(device.scales == cpu.scales) << what << ": scales differ";
  EXPECT_TRUE(device.payload == cpu.payload) << what << ": payload differs";
  EXPECT_EQ(device.checksum, cpu.checksum) << what;
  EXPECT_EQ(device.shape, cpu.shape) << what;
  EXPECT_EQ(device.encoding, cpu.encoding) << what;

  std::vector<float> want(data.size());
  ASSERT_TRUE(DecodeInto(cpu, absl::MakeSpan(want), {}, &ScalarKernels()).ok()) << what;
  absl::Status s;
  const std::vector<float> got = DecodeOnDevice(cpu, &s);
  ASSERT_TRUE(s.ok()) << what << ": " << s;
  EXPECT_EQ(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)), 0)
      << what << ": decoded floats differ";
}

DEVICE_TEST(WithoutADeviceEveryCallSaysWhy) {
  if (CheckDevice().ok()) GTEST_SKIP() << "a device is present: " << DeviceDescription();
  const absl::Status s = CheckDevice();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_FALSE(s.message().empty());
  Packet p;
  float fake = 0;
  EXPECT_EQ(EncodeFromDevice(&fake, 1, {1}, DefaultEncoding(), &p).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(DecodeToDevice(p, &fake, 1).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(DeviceBuffer::Allocate(16).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(UseDevice(0).code(), absl::StatusCode::kFailedPrecondition);
}

DEVICE_TEST(UseDeviceTakesOnlyDevicesThatExist) {
  REQUIRE_DEVICE();
  EXPECT_TRUE(UseDevice(0).ok());
  EXPECT_EQ(UseDevice(-1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(UseDevice(4096).code(), absl::StatusCode::kInvalidArgument);
}

DEVICE_TEST(SharedVectorInputsGiveTheCpuPacketsAndFloats) {
  REQUIRE_DEVICE();
  size_t quantized = 0, rotated = 0;
  for (const Case& c : ManifestCases()) {
    if (c.kind != "roundtrip") continue;
    const absl::StatusOr<Encoding> e = ParseEncoding(c.encoding);
    ASSERT_TRUE(e.ok()) << c.name;
    quantized += IsQuantized(e->dtype);
    rotated += IsQuantized(e->dtype) && IsRotated(e->rotation);
    const std::vector<float> input = ReadFloats(kDir / c.input);
    ExpectSameAsCpu(input, Shape(c.shape), *e, c.name);
    // And the committed decoded floats, directly.
    Packet cpu;
    ASSERT_TRUE(EncodeInto(input, Shape(c.shape), *e, &cpu, &ScalarKernels()).ok());
    absl::Status s;
    const std::vector<float> got = DecodeOnDevice(cpu, &s);
    ASSERT_TRUE(s.ok()) << c.name << ": " << s;
    const std::vector<float> want = ReadFloats(kDir / c.decoded);
    ASSERT_EQ(got.size(), want.size()) << c.name;
    EXPECT_EQ(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)), 0) << c.name;
  }
  EXPECT_GE(quantized, 40u);
  EXPECT_GE(rotated, 20u);
}

DEVICE_TEST(RefusedInputsGiveTheCpuErrors) {
  REQUIRE_DEVICE();
  size_t seen = 0;
  for (const Case& c : ManifestCases()) {
    if (c.kind != "encode_error") continue;
    const absl::StatusOr<Encoding> e = ParseEncoding(c.encoding);
    ASSERT_TRUE(e.ok()) << c.name;
    ExpectSameAsCpu(ReadFloats(kDir / c.input), Shape(c.shape), *e, c.name);
    ++seen;
  }
  EXPECT_GE(seen, 5u);
  // A NaN, an infinity and 2^120 in one group of a rotated and an unrotated tensor.
  for (const float bad : {std::nanf(""), INFINITY, std::ldexp(1.0f, 120)}) {
    for (const char* name : {"int4/g32", "int8/g64+rot", "int4/g128+rot64"}) {
      std::vector<float> data = GaussianTensor(4, 96, 7).data;
      data[131] = bad;
      ExpectSameAsCpu(data, {4, 96}, *ParseEncoding(name), absl::StrCat(name, " with ", bad));
    }
  }
  Packet p;
  DeviceBuffer input = Upload(std::vector<float>(8, 1.0f));
  EXPECT_EQ(EncodeFromDevice(input.floats(), 8, {3, 3}, DefaultEncoding(), &p).code(),
            absl::StatusCode::kInvalidArgument);
}

DEVICE_TEST(DamagedPacketsAreRefusedLikeOnTheCpu) {
  REQUIRE_DEVICE();
  Packet good;
  const Tensor t = GaussianTensor(4, 64, 3);
  ASSERT_TRUE(EncodeInto(t.data, t.shape, *ParseEncoding("int4/g32+rot64"), &good).ok());
  Packet bad_checksum = good;
  bad_checksum.payload[5] ^= 0x11;
  Packet bad_scale = good;
  const float nan = std::nanf("");
  std::memcpy(bad_scale.scales.data(), &nan, sizeof(nan));
  bad_scale.checksum = ComputeChecksum(bad_scale);
  Packet short_payload = good;
  short_payload.payload.pop_back();
  short_payload.checksum = ComputeChecksum(short_payload);
  // Finite values that overflow in the inverse rotation: every scale 2^120.
  Packet overflow = good;
  const float big = std::ldexp(1.0f, 120);
  for (size_t i = 0; i < overflow.scales.size(); i += sizeof(float)) {
    std::memcpy(overflow.scales.data() + i, &big, sizeof(big));
  }
  std::memset(overflow.payload.data(), 0xff, overflow.payload.size());
  overflow.checksum = ComputeChecksum(overflow);
  for (const Packet* p : {&bad_checksum, &bad_scale, &short_payload, &overflow}) {
    std::vector<float> host(NumElements(p->shape));
    const absl::Status cpu = DecodeInto(*p, absl::MakeSpan(host));
    absl::Status device;
    DecodeOnDevice(*p, &device);
    EXPECT_FALSE(cpu.ok());
    EXPECT_EQ(device.code(), cpu.code()) << device << " vs " << cpu;
    EXPECT_EQ(device.message(), cpu.message());
  }
  absl::StatusOr<DeviceBuffer> small = DeviceBuffer::Allocate(8);
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(DecodeToDevice(good, small->floats(), 2).code(), absl::StatusCode::kInvalidArgument);
}

// Random shapes, encodings and magnitudes: every group's exponent drawn from subnormal to
// near 2^120, zero groups, tiny groups, widths with and without tails and odd factors.
DEVICE_TEST(RandomTensorsMatchTheCpuBitForBit) {
  REQUIRE_DEVICE();
  std::mt19937_64 rng(20261206);
  const uint32_t widths[] = {1,   2,   7,   31,  63,  64,   65,   77,  96,
                             100, 127, 288, 576, 640, 1000, 2048, 4096};
  const char* encodings[] = {"int8/g32", "int8/g64", "int8/g128",
                             "int4/g32", "int4/g64", "int4/g128"};
  const char* rotations[] = {"", "+rot", "+rot64", "+rot:99", "+rot64:12345"};
  std::uniform_int_distribution<int> exponent(-149, 118);
  std::normal_distribution<float> normal;
  const int trials = kEmulated ? 40 : 300;
  for (int trial = 0; trial < trials; ++trial) {
    const uint32_t width = widths[rng() % std::size(widths)];
    const uint32_t rows = 1 + rng() % (kEmulated ? 2 : 9);
    std::string name = encodings[rng() % std::size(encodings)];
    const char* rotation = rotations[rng() % std::size(rotations)];
    if (*rotation != 0 && std::string(rotation).rfind("+rot64", 0) != 0 &&
        !Rotation::CheckWidth(width).ok()) {
      rotation = "+rot64";  // "+rot" takes odd factors up to 63 only
    }
    name += rotation;
    std::vector<float> data(size_t{rows} * width);
    const int shift = trial % 3 == 0 ? exponent(rng) : 0;
    for (size_t i = 0; i < data.size(); ++i) {
      if (i % 32 == 0 && trial % 3 == 1) {  // a new magnitude every 32 elements
        const int e = exponent(rng);
        for (size_t j = i; j < std::min(data.size(), i + 32); ++j) {
          data[j] = e % 17 == 0 ? 0.0f : std::ldexp(normal(rng), e);
        }
      }
      if (trial % 3 != 1) data[i] = std::ldexp(normal(rng), shift);
    }
    ExpectSameAsCpu(data, {rows, width}, *ParseEncoding(name),
                    absl::StrCat("trial ", trial, ": [", rows, ",", width, "] ", name));
    if (HasFatalFailure()) return;
  }
}

// Tensors larger than one pass of the largest grid (8192 blocks of 256 threads): every
// grid-stride loop goes round more than once.
// (Not in the emulated build: its grid is 3 blocks, so every test there goes round.)
#if !defined(LATENTBUS_CUDA_EMULATED)
DEVICE_TEST(TensorsBeyondOneGridPassMatchTheCpu) {
  REQUIRE_DEVICE();
  const Tensor x = OutlierTensor(600, 4096, 5);
  for (const char* name : {"int4/g128", "int8/g32+rot", "int4/g32+rot64"}) {
    ExpectSameAsCpu(x.data, x.shape, *ParseEncoding(name), name);
  }
}
#endif

DEVICE_TEST(ThreadsEncodingAtOnceGetTheirOwnPackets) {
  REQUIRE_DEVICE();
  const Encoding e = *ParseEncoding("int4/g32+rot64");
  std::vector<std::thread> threads;
  std::vector<std::string> failures(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const Tensor x = OutlierTensor(kEmulated ? 4 : 64, 576, 100 + t);
      Packet cpu;
      if (!EncodeInto(x.data, x.shape, e, &cpu).ok()) failures[t] = "CPU encode failed";
      DeviceBuffer input = Upload(x.data);
      for (int i = 0; i < (kEmulated ? 2 : 20) && failures[t].empty(); ++i) {
        Packet device;
        absl::Status s = EncodeFromDevice(input.floats(), x.data.size(), x.shape, e, &device);
        if (!s.ok() || device.payload != cpu.payload || device.scales != cpu.scales) {
          failures[t] = absl::StrCat("round ", i, ": ", s.ToString());
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& f : failures) EXPECT_EQ(f, "");
}

}  // namespace
}  // namespace latentbus::codec::cuda
