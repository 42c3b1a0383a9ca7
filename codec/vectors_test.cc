// The committed shared test vectors (codec/testdata/vectors, format in codec/vectors.h)
// against this codec: re-encoding gives the same bytes and decoding the same floats,
// with the scalar and the AVX2 kernels; the damaged packets and bad inputs are refused;
// and the generator reproduces every committed file. The Python SDK checks the same
// files (sdk/python/tests/test_codec_vectors.py).
#include "codec/vectors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "codec/packet.h"
#include "codec/packet_proto.h"

namespace latentbus::codec {
namespace {

namespace fs = std::filesystem;

const fs::path kDir = LATENTBUS_CODEC_VECTORS;

std::string ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot open " << path;
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::vector<float> ReadFloats(const fs::path& path) {
  const std::string bytes = ReadBytes(path);
  EXPECT_EQ(bytes.size() % sizeof(float), 0u) << path;
  std::vector<float> v(bytes.size() / sizeof(float));
  std::memcpy(v.data(), bytes.data(), v.size() * sizeof(float));
  return v;
}

std::vector<VectorCase> Cases(const std::string& kind) {
  absl::StatusOr<std::vector<VectorCase>> all =
      ReadVectorManifest((kDir / "manifest.txt").string());
  EXPECT_TRUE(all.ok()) << all.status();
  std::vector<VectorCase> out;
  if (!all.ok()) return out;
  for (const VectorCase& c : *all) {
    if (c.kind == kind) out.push_back(c);
  }
  return out;
}

std::vector<const Kernels*> AllKernels() {
  std::vector<const Kernels*> k = {&ScalarKernels()};
  if (Avx2Kernels() != nullptr) k.push_back(Avx2Kernels());
  return k;
}

TEST(CodecVectorsTest, ManifestCoversEveryEncodingAndEdge) {
  const std::vector<VectorCase> roundtrips = Cases("roundtrip");
  std::set<std::string> seen;
  bool odd_count = false, ragged = false, rank1 = false, rank3 = false, seeded = false;
  bool block_tail = false;  // +rot64 on a width that is not a multiple of 64
  for (const VectorCase& c : roundtrips) {
    absl::StatusOr<Encoding> e = ParseEncoding(c.encoding);
    ASSERT_TRUE(e.ok()) << c.name;
    absl::StatusOr<std::vector<uint32_t>> shape = ParseVectorShape(c.shape);
    ASSERT_TRUE(shape.ok()) << c.name;
    const size_t n = NumElements(*shape);
    Encoding plain = *e;
    plain.rotation_seed = 0;
    seen.insert(EncodingName(plain));
    odd_count |= n % 2 == 1 && e->dtype == DType::kInt4;
    ragged |= IsQuantized(e->dtype) && n % e->group_size != 0;
    rank1 |= shape->size() == 1;
    rank3 |= shape->size() == 3;
    seeded |= e->rotation == RotationKind::kHadamard && e->rotation_seed != kDefaultRotationSeed;
    block_tail |= e->rotation == RotationKind::kHadamard64 && shape->back() % 64 != 0;
  }
  for (const char* dtype : {"fp32", "fp16", "bf16"}) {
    EXPECT_TRUE(seen.count(dtype)) << dtype;
    EXPECT_TRUE(seen.count(absl::StrCat(dtype, "+rot:0"))) << dtype << "+rot";
    EXPECT_TRUE(seen.count(absl::StrCat(dtype, "+rot64:0"))) << dtype << "+rot64";
  }
  for (const char* dtype : {"int8", "int4"}) {
    for (int g : {32, 64, 128}) {
      const std::string name = absl::StrCat(dtype, "/g", g);
      EXPECT_TRUE(seen.count(name)) << name;
      EXPECT_TRUE(seen.count(name + "+rot:0")) << name << "+rot";
      EXPECT_TRUE(seen.count(name + "+rot64:0")) << name << "+rot64";
    }
  }
  EXPECT_TRUE(odd_count && ragged && rank1 && rank3 && seeded && block_tail);
  std::set<std::string> errors;
  for (const VectorCase& c : Cases("decode_error")) errors.insert(c.expect);
  EXPECT_EQ(errors, (std::set<std::string>{"DATA_LOSS", "INVALID_ARGUMENT"}));
  EXPECT_GE(Cases("encode_error").size(), 5u);
}

TEST(CodecVectorsTest, ReencodingGivesCommittedPacketBytes) {
  const std::vector<VectorCase> cases = Cases("roundtrip");
  ASSERT_GE(cases.size(), 90u);
  for (const Kernels* kernels : AllKernels()) {
    for (const VectorCase& c : cases) {
      const std::vector<float> input = ReadFloats(kDir / c.input);
      const std::string want = ReadBytes(kDir / c.packet);
      v1::LatentPacket committed;
      ASSERT_TRUE(committed.ParseFromString(want)) << c.name;
      Packet p;
      ASSERT_TRUE(
          EncodeInto(input, *ParseVectorShape(c.shape), *ParseEncoding(c.encoding), &p, kernels)
              .ok())
          << c.name;
      p.model_id = committed.model_id();
      p.model_fingerprint = committed.model_fingerprint();
      p.space = static_cast<Space>(committed.space());
      p.layer = committed.layer();
      EXPECT_TRUE(ToProto(p).SerializeAsString() == want) << c.name << " with " << kernels->name;
    }
  }
}

TEST(CodecVectorsTest, DecodingGivesCommittedFloats) {
  for (const Kernels* kernels : AllKernels()) {
    for (const VectorCase& c : Cases("roundtrip")) {
      v1::LatentPacket proto;
      ASSERT_TRUE(proto.ParseFromString(ReadBytes(kDir / c.packet))) << c.name;
      absl::StatusOr<Packet> p = FromProto(proto);
      ASSERT_TRUE(p.ok()) << c.name << ": " << p.status();
      const std::vector<float> want = ReadFloats(kDir / c.decoded);
      std::vector<float> got(want.size());
      ASSERT_TRUE(DecodeInto(*p, absl::MakeSpan(got), {}, kernels).ok()) << c.name;
      EXPECT_EQ(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)), 0)
          << c.name << " with " << kernels->name;
    }
  }
}

TEST(CodecVectorsTest, DamagedPacketsAreRefused) {
  const std::vector<VectorCase> cases = Cases("decode_error");
  ASSERT_GE(cases.size(), 20u);
  for (const VectorCase& c : cases) {
    v1::LatentPacket proto;
    ASSERT_TRUE(proto.ParseFromString(ReadBytes(kDir / c.packet))) << c.name;
    absl::StatusOr<Packet> p = FromProto(proto);
    absl::Status s = p.ok() ? Decode(*p).status() : p.status();
    const std::string code =
        s.code() == absl::StatusCode::kDataLoss
            ? "DATA_LOSS"
            : (s.code() == absl::StatusCode::kInvalidArgument ? "INVALID_ARGUMENT" : s.ToString());
    EXPECT_EQ(code, c.expect) << c.name << ": " << s;
  }
}

TEST(CodecVectorsTest, BadInputsAreRefused) {
  for (const VectorCase& c : Cases("encode_error")) {
    Packet p;
    absl::Status s = EncodeInto(ReadFloats(kDir / c.input), *ParseVectorShape(c.shape),
                                *ParseEncoding(c.encoding), &p);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.name << ": " << s;
  }
}

TEST(CodecVectorsTest, GeneratorReproducesCommittedFiles) {
  const fs::path out = fs::path(::testing::TempDir()) / "codec_vectors";
  fs::remove_all(out);
  ASSERT_TRUE(WriteCodecVectors(out.string()).ok());
  EXPECT_EQ(ReadBytes(out / "manifest.txt"), ReadBytes(kDir / "manifest.txt"))
      << "regenerate with: latentbus codec vectors --out codec/testdata/vectors";
  absl::StatusOr<std::vector<VectorCase>> cases =
      ReadVectorManifest((out / "manifest.txt").string());
  ASSERT_TRUE(cases.ok());
  for (const VectorCase& c : *cases) {
    for (const std::string& rel : {c.input, c.packet, c.decoded}) {
      if (rel == "-") continue;
      EXPECT_TRUE(ReadBytes(out / rel) == ReadBytes(kDir / rel)) << rel;
    }
  }
  fs::remove_all(out);
}

}  // namespace
}  // namespace latentbus::codec
