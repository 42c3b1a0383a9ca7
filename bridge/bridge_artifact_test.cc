// The artifact format on its own (torch-free): what bridge_test checks through
// Bridge::Load is not repeated here; this covers every kind's tensors, every metadata
// field, bf16 rounding and the refusals of inconsistent or foreign files.
#include "bridge/bridge_artifact.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <utility>

#include "bridge/safetensors_io.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace latentbus::bridge {
namespace {

using Shapes = std::vector<std::pair<std::string, std::vector<uint32_t>>>;

std::string TempPath(const std::string& name) {
  return std::string(::testing::TempDir()) + "/artifact_" + name;
}

// An artifact of `kind` holding `shapes`, each tensor filled with distinct values
// (-1, -0.75, ... across all tensors) so that a swap or a truncation shows.
BridgeArtifact Make(const std::string& kind, int64_t src_dim, int64_t dst_dim,
                    const Shapes& shapes) {
  BridgeArtifact a;
  a.metadata.kind = kind;
  a.metadata.src_dim = src_dim;
  a.metadata.dst_dim = dst_dim;
  float next = -1.0f;
  for (const auto& [name, shape] : shapes) {
    codec::Tensor& t = a.tensors[name];
    t.shape = shape;
    for (size_t i = 0; i < codec::NumElements(shape); ++i, next += 0.25f) t.data.push_back(next);
  }
  return a;
}

BridgeArtifact Linear(const std::string& kind) {
  return Make(
      kind, 3, 2,
      {{"src_mean", {3}}, {"src_std", {3}}, {"map", {3, 2}}, {"dst_mean", {2}}, {"dst_std", {2}}});
}

BridgeArtifact Adapter() {  // rank 4
  return Make("adapter", 3, 2,
              {{"src_mean", {3}},
               {"src_std", {3}},
               {"map", {3, 2}},
               {"bias", {2}},
               {"up", {3, 4}},
               {"up_bias", {4}},
               {"down", {4, 2}}});
}

BridgeArtifact Resampler() {  // 2 queries, 2 heads of width 2
  BridgeArtifact a = Make("resampler", 3, 2,
                          {{"queries", {2, 2}},
                           {"wq", {2, 4}},
                           {"wk", {3, 4}},
                           {"wv", {3, 4}},
                           {"wo", {4, 2}},
                           {"bo", {2}}});
  a.metadata.num_queries = 2;
  a.metadata.num_heads = 2;
  return a;
}

void ExpectSameTensors(const BridgeArtifact& got, const BridgeArtifact& want) {
  ASSERT_EQ(got.tensors.size(), want.tensors.size());
  for (const auto& [name, t] : want.tensors) {
    auto it = got.tensors.find(name);
    ASSERT_NE(it, got.tensors.end()) << name;
    EXPECT_EQ(it->second.shape, t.shape) << name;
    EXPECT_EQ(it->second.data, t.data) << name;
  }
}

TEST(BridgeArtifactTest, EveryKindRoundTripsItsTensorsExactlyInFloat32) {
  for (const BridgeArtifact& a :
       {Linear("self"), Linear("affine"), Linear("procrustes"), Adapter(), Resampler()}) {
    SCOPED_TRACE(a.metadata.kind);
    const std::string path = TempPath(a.metadata.kind + ".bridge");
    ASSERT_TRUE(WriteBridgeArtifact(path, a).ok());
    absl::StatusOr<BridgeArtifact> read = ReadBridgeArtifact(path);
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ(read->metadata.kind, a.metadata.kind);
    EXPECT_EQ(read->metadata.num_queries, a.metadata.num_queries);
    EXPECT_EQ(read->metadata.num_heads, a.metadata.num_heads);
    ExpectSameTensors(*read, a);
  }
}

TEST(BridgeArtifactTest, EveryMetadataFieldRoundTrips) {
  BridgeArtifact a = Adapter();
  const std::vector<std::pair<std::string BridgeMetadata::*, std::string>> strings = {
      {&BridgeMetadata::src_model_id, "smol"},  {&BridgeMetadata::src_fingerprint, "aaaa"},
      {&BridgeMetadata::dst_model_id, "gemma"}, {&BridgeMetadata::dst_fingerprint, "bbbb"},
      {&BridgeMetadata::corpus_hash, "c0ffee"},
  };
  for (const auto& [field, value] : strings) a.metadata.*field = value;
  a.metadata.layer = 5;
  a.metadata.fidelity = {{"cosine", 0.875}, {"ask_agreement", 0.625}};
  a.metadata.fit = {{"lambda", 0.01}, {"scale", 2.5}};
  a.metadata.provenance = {{"command", "latentbus train --seed 7"}, {"data_hash", "abc"}};
  const std::string path = TempPath("metadata.bridge");
  ASSERT_TRUE(WriteBridgeArtifact(path, a).ok());
  absl::StatusOr<BridgeArtifact> read = ReadBridgeArtifact(path);
  ASSERT_TRUE(read.ok()) << read.status();
  const BridgeMetadata& m = read->metadata;
  for (const auto& [field, value] : strings) EXPECT_EQ(m.*field, value);
  EXPECT_EQ(m.layer, 5);
  EXPECT_EQ(m.src_dim, 3);
  EXPECT_EQ(m.dst_dim, 2);
  EXPECT_EQ(m.format_version, kBridgeFormatVersion);
  EXPECT_EQ(m.fidelity, a.metadata.fidelity);
  EXPECT_EQ(m.fit, a.metadata.fit);
  EXPECT_EQ(m.provenance, a.metadata.provenance);
}

TEST(BridgeArtifactTest, Bf16StoresEveryTensorInTwoBytesRoundedToNearestEven) {
  BridgeArtifact a = Resampler();
  // 1 + 2^-8 is a tie between 1 and 1 + 2^-7 (to even: 1); 1 + 3 * 2^-8 rounds up to
  // 1 + 2^-6; 0.1f (0x3DCCCCCD) rounds up to 0x3DCD0000 = 0.10009765625; -2.5 is exact.
  a.tensors["queries"].data = {1.0f + 1.0f / 256, 1.0f + 3.0f / 256, 0.1f, -2.5f};
  const std::string path = TempPath("bf16.bridge");
  ASSERT_TRUE(WriteBridgeArtifact(path, a, /*bf16=*/true).ok());
  absl::StatusOr<SafetensorsContents> raw = ReadSafetensors(path);
  ASSERT_TRUE(raw.ok()) << raw.status();
  for (const auto& [name, stored] : raw->tensors) {
    EXPECT_EQ(stored.dtype, "BF16") << name;
    EXPECT_EQ(stored.bytes.size(), 2 * a.tensors.at(name).data.size()) << name;
  }
  absl::StatusOr<BridgeArtifact> read = ReadBridgeArtifact(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->tensors.at("queries").data,
            (std::vector<float>{1.0f, 1.0f + 1.0f / 64, 0.10009765625f, -2.5f}));
  // The other tensors' values (multiples of 0.25 below 64) are exact in bfloat16.
  EXPECT_EQ(read->tensors.at("wo").data, a.tensors.at("wo").data);
  EXPECT_EQ(read->metadata.num_heads, 2);
}

using Mutation = std::pair<std::string, std::function<void(BridgeArtifact*)>>;

// `what`: tensor `name` replaced by zeros of `shape`.
Mutation Reshaped(const std::string& what, const std::string& name, std::vector<uint32_t> shape) {
  return {what, [name, shape](BridgeArtifact* a) {
            a->tensors[name] = codec::Tensor{shape, std::vector<float>(codec::NumElements(shape))};
          }};
}

// Each mutation of `base` fails validation and writing (InvalidArgument), and writes nothing.
void ExpectEachRefused(const BridgeArtifact& base, const std::vector<Mutation>& mutations) {
  for (const auto& [what, mutate] : mutations) {
    BridgeArtifact a = base;
    mutate(&a);
    EXPECT_EQ(ValidateBridgeArtifact(a).code(), absl::StatusCode::kInvalidArgument) << what;
    const std::string path = TempPath("refused.bridge");
    std::filesystem::remove(path);
    absl::Status s = WriteBridgeArtifact(path, a);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << what << ": " << s;
    EXPECT_FALSE(std::filesystem::exists(path)) << what << ": written anyway";
  }
}

TEST(BridgeArtifactTest, WriteRefusesLinearArtifactsThatDoNotMatchTheirKind) {
  ExpectEachRefused(
      Linear("affine"),
      {
          {"zero src_dim", [](BridgeArtifact* a) { a->metadata.src_dim = 0; }},
          {"negative dst_dim", [](BridgeArtifact* a) { a->metadata.dst_dim = -2; }},
          {"unknown kind", [](BridgeArtifact* a) { a->metadata.kind = "magic"; }},
          {"missing dst_std", [](BridgeArtifact* a) { a->tensors.erase("dst_std"); }},
          Reshaped("transposed map", "map", {2, 3}),
          {"map data short", [](BridgeArtifact* a) { a->tensors["map"].data.pop_back(); }},
          {"src_dim disagrees", [](BridgeArtifact* a) { a->metadata.src_dim = 4; }},
      });
}

TEST(BridgeArtifactTest, AdapterAndResamplerShapesAreCheckedAgainstEachOther) {
  EXPECT_TRUE(ValidateBridgeArtifact(Adapter()).ok());
  EXPECT_TRUE(ValidateBridgeArtifact(Resampler()).ok());
  ExpectEachRefused(Adapter(), {
                                   {"no up", [](BridgeArtifact* a) { a->tensors.erase("up"); }},
                                   Reshaped("1-D up", "up", {12}),
                                   Reshaped("rank of down", "down", {5, 2}),
                                   Reshaped("up_bias", "up_bias", {3}),
                               });
  ExpectEachRefused(Resampler(),
                    {
                        {"no heads", [](BridgeArtifact* a) { a->metadata.num_heads = 0; }},
                        {"width 4, 3 heads", [](BridgeArtifact* a) { a->metadata.num_heads = 3; }},
                        Reshaped("3 queries", "queries", {3, 2}),
                        Reshaped("narrow wk", "wk", {3, 2}),
                        {"no wq", [](BridgeArtifact* a) { a->tensors.erase("wq"); }},
                    });
}

// Rewrites a valid artifact's file with its "latentbus" metadata changed by `edit`
// (nullptr: no metadata at all), the tensors as they were.
std::string WithMetadata(const std::string& name, const std::function<void(nlohmann::json*)>& edit,
                         bool keep_metadata = true) {
  const std::string path = TempPath(name);
  EXPECT_TRUE(WriteBridgeArtifact(path, Linear("affine")).ok());
  absl::StatusOr<SafetensorsContents> raw = ReadSafetensors(path);
  EXPECT_TRUE(raw.ok()) << raw.status();
  std::map<std::string, std::string> metadata;
  if (keep_metadata) {
    nlohmann::json meta = nlohmann::json::parse(raw->metadata.at("latentbus"));
    if (edit) edit(&meta);
    metadata["latentbus"] = meta.dump();
  }
  std::vector<TensorView> views;
  for (const auto& [tensor, stored] : raw->tensors) {
    views.push_back({tensor, stored.dtype, stored.shape, stored.bytes.data()});
  }
  EXPECT_TRUE(WriteSafetensors(path, metadata, views).ok());
  return path;
}

absl::StatusCode ReadCode(const std::string& path) {
  return ReadBridgeArtifact(path).status().code();
}

TEST(BridgeArtifactTest, ReadRefusesFilesThatAreNotBridgeArtifacts) {
  EXPECT_EQ(ReadCode(TempPath("missing.bridge")), absl::StatusCode::kNotFound);
  EXPECT_EQ(ReadCode(WithMetadata("no_meta.bridge", nullptr, /*keep_metadata=*/false)),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(
      ReadCode(WithMetadata("format.bridge",
                            [](nlohmann::json* m) { (*m)["format"] = "latentbus.activations"; })),
      absl::StatusCode::kDataLoss);
  EXPECT_EQ(ReadCode(WithMetadata("no_kind.bridge", [](nlohmann::json* m) { m->erase("kind"); })),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(ReadCode(WithMetadata("dim_type.bridge",
                                  [](nlohmann::json* m) { (*m)["src_dim"] = "three"; })),
            absl::StatusCode::kDataLoss);
  // Metadata that is not JSON at all.
  const std::string garbled = TempPath("garbled.bridge");
  const std::vector<float> one = {1.0f};
  ASSERT_TRUE(
      WriteSafetensors(garbled, {{"latentbus", "{not json"}}, {{"x", "F32", {1}, one.data()}})
          .ok());
  EXPECT_EQ(ReadCode(garbled), absl::StatusCode::kDataLoss);
}

TEST(BridgeArtifactTest, ReadAcceptsVersionsOneAndTwoOnly) {
  for (int version : {0, kBridgeFormatVersion + 1}) {
    const std::string path =
        WithMetadata("version" + std::to_string(version) + ".bridge",
                     [version](nlohmann::json* m) { (*m)["version"] = version; });
    absl::Status s = ReadBridgeArtifact(path).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << version;
    EXPECT_NE(s.message().find("unsupported bridge format version"), std::string::npos) << s;
  }
  // A version 1 file has no provenance (and may lack the resampler fields).
  absl::StatusOr<BridgeArtifact> v1 =
      ReadBridgeArtifact(WithMetadata("v1.bridge", [](nlohmann::json* m) {
        (*m)["version"] = 1;
        m->erase("provenance");
        m->erase("num_queries");
        m->erase("num_heads");
      }));
  ASSERT_TRUE(v1.ok()) << v1.status();
  EXPECT_EQ(v1->metadata.format_version, 1);
  EXPECT_TRUE(v1->metadata.provenance.empty());
  ExpectSameTensors(*v1, Linear("affine"));
}

TEST(BridgeArtifactTest, ReadRefusesTensorsThatDisagreeWithTheMetadata) {
  // The tensors are [3] / [3, 2]; the metadata claims a source width of 4.
  absl::Status s = ReadBridgeArtifact(WithMetadata("wider.bridge", [](nlohmann::json* m) {
                     (*m)["src_dim"] = 4;
                   })).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_NE(s.message().find("src_mean"), std::string::npos) << s;
  EXPECT_EQ(
      ReadCode(WithMetadata("kind.bridge", [](nlohmann::json* m) { (*m)["kind"] = "resampler"; })),
      absl::StatusCode::kDataLoss);
  // A map stored as integers is not a float tensor.
  const std::string path = TempPath("int_map.bridge");
  ASSERT_TRUE(WriteBridgeArtifact(path, Linear("affine")).ok());
  absl::StatusOr<SafetensorsContents> raw = ReadSafetensors(path);
  ASSERT_TRUE(raw.ok());
  std::vector<TensorView> views;
  for (const auto& [name, stored] : raw->tensors) {
    views.push_back(
        {name, name == "map" ? "I32" : stored.dtype, stored.shape, stored.bytes.data()});
  }
  ASSERT_TRUE(WriteSafetensors(path, raw->metadata, views).ok());
  EXPECT_EQ(ReadCode(path), absl::StatusCode::kDataLoss);
}

// Dimensions are int64 in the metadata but uint32 in tensor shapes: a width that agrees
// with the tensors only modulo 2^32 is a corrupt artifact. (Bridge::ApplyBatch copies
// rows * dst_dim floats out of a [rows, dst_dim mod 2^32] result.)
TEST(BridgeArtifactTest, DimsBeyond32BitsAreRefused) {
  // Linear("affine") is 3 -> 2; these agree with its tensors modulo 2^32.
  const std::vector<std::pair<std::string, int64_t>> wrapped = {
      {"src_dim", (int64_t{1} << 32) + 3}, {"dst_dim", (int64_t{1} << 32) + 2}};
  for (const auto& entry : wrapped) {
    const std::string dim = entry.first;  // not a structured binding: the lambda captures it
    const int64_t value = entry.second;
    BridgeArtifact a = Linear("affine");
    (dim == "src_dim" ? a.metadata.src_dim : a.metadata.dst_dim) = value;
    EXPECT_EQ(ValidateBridgeArtifact(a).code(), absl::StatusCode::kInvalidArgument) << dim;
    const std::string path =
        WithMetadata("wrapped_" + dim + ".bridge", [&](nlohmann::json* m) { (*m)[dim] = value; });
    EXPECT_EQ(ReadCode(path), absl::StatusCode::kDataLoss) << dim;
  }
}

}  // namespace
}  // namespace latentbus::bridge
