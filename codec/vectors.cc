#include "codec/vectors.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "codec/packet.h"
#include "codec/packet_proto.h"
#include "codec/rotation.h"
#include "codec/synthetic.h"

namespace latentbus::codec {
namespace {

namespace fs = std::filesystem;

// Every roundtrip packet carries this routing metadata, so the vectors also pin how
// the metadata fields serialize.
constexpr char kModelId[] = "vectors-model";
constexpr char kFingerprint[] = "fp-vectors";
constexpr uint32_t kLayer = 2;

// An input tensor and the encodings it is checked with.
struct Input {
  std::string name;
  std::vector<uint32_t> shape;
  std::vector<float> data;
  std::vector<std::string> encodings;
};

// Every element type and group size, plain; with_rotation adds each with "+rot" and
// with_blocks each with "+rot64".
std::vector<std::string> AllEncodings(bool with_rotation, bool with_blocks = false) {
  std::vector<std::string> out;
  for (const char* base : {"fp32", "fp16", "bf16", "int8/g32", "int8/g64", "int8/g128", "int4/g32",
                           "int4/g64", "int4/g128"}) {
    out.push_back(base);
    if (with_rotation) out.push_back(absl::StrCat(base, "+rot"));
    if (with_blocks) out.push_back(absl::StrCat(base, "+rot64"));
  }
  return out;
}

// The block rotation on every kind of element (widths need not be multiples of 64).
const std::vector<std::string> kBlockRotationEncodings = {"fp32+rot64",     "bf16+rot64",
                                                          "fp16+rot64:5",   "int8/g32+rot64",
                                                          "int4/g32+rot64", "int4/g128+rot64:99"};

std::vector<std::string> With(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A few encodings for the larger tensors shaped like the real models' hidden states.
const std::vector<std::string> kModelWidthEncodings = {
    "int4/g32", "int4/g128+rot",  "int8/g64+rot",   "fp16+rot",
    "bf16",     "fp32+rot:12345", "int4/g64+rot:99"};

// Hand-made values that exercise rounding: ties for int4 (absmax 7, so x * inv is
// exact) and int8 (absmax 127), a zero group, negative zeros, fp16/bf16 ties and
// subnormals, values near the fp16 maximum. Every |x| < 65520 so fp16 applies.
std::vector<float> SpecialsData() {
  std::vector<float> v = {7,    -7,    0.5f, -0.5f, 1.5f,  -1.5f, 2.5f,  -2.5f,
                          3.5f, -3.5f, 4.5f, -4.5f, 5.5,   -5.5f, 6.5f,  -6.5f,
                          0.0f, -0.0f, 3,    -3,    0.25f, 6.75f, 1e-3f, -1e-3f,
                          5,    2,     1,    4,     6,     -6,    0.75f, -0.75f};
  const float int8_ties[] = {127,   -127,  0.5f,  1.5f,   2.5f,   -2.5f, 126.5f, -126.5f,
                             63.5f, 64.5f, -0.5f, 100.5f, -99.5f, 0.49f, 0.51f,  -0.0f};
  for (int i = 0; i < 2; ++i) v.insert(v.end(), std::begin(int8_ties), std::end(int8_ties));
  for (int i = 0; i < 32; ++i) v.push_back(i % 3 == 0 ? -0.0f : 0.0f);  // a zero group
  const float halves[] = {
      1.0f + std::ldexp(1.0f, -11),      // fp16 tie -> even (1.0)
      1.0f + 3 * std::ldexp(1.0f, -11),  // fp16 tie -> up
      1.0f + std::ldexp(1.0f, -8),       // bf16 tie -> even
      1.0f + 3 * std::ldexp(1.0f, -8),   // bf16 tie -> up
      65504.0f,                          // largest fp16
      -65519.0f,                         // rounds to -65504 in fp16
      std::ldexp(1.0f, -24),             // smallest fp16 subnormal
      std::ldexp(1.0f, -25),             // tie between 0 and it -> 0
      3e-8f,                             // just above that tie -> 2^-24
      1e-5f,                             // fp16 subnormal
      -6.1e-5f,                          // near the smallest fp16 normal
      0.1f,
      1.0f / 3.0f,
      -2.0f / 3.0f,
      std::numeric_limits<float>::denorm_min(),
      -1e-40f,  // fp32 subnormal
  };
  for (int i = 0; i < 2; ++i) v.insert(v.end(), std::begin(halves), std::end(halves));
  const Tensor noise = GaussianTensor(2, 64, 11);
  for (size_t i = 0; i < noise.data.size(); ++i) {
    v.push_back(i < 64 ? noise.data[i] : noise.data[i] * 1e-3f);
  }
  return v;  // 4 x 64
}

// A wide dynamic range (1e-40 .. 1.2e36, just under the 2^120 quantization limit):
// beyond fp16, and for the int types without rotation (a rotation could push a sum
// of such values past 2^120).
std::vector<float> WideData() {
  const Tensor g = GaussianTensor(2, 96, 12);
  std::vector<float> v(g.data.size());
  for (size_t i = 0; i < v.size(); ++i) {
    v[i] = g.data[i] * std::pow(10.0f, static_cast<float>(static_cast<int>(i % 61) - 30));
  }
  v[5] = 1.2e36f;
  v[100] = -1.2e36f;
  v[7] = std::numeric_limits<float>::denorm_min();
  v[8] = -0.0f;
  v[150] = 1e-38f;
  return v;  // 2 x 96
}

// Groups too small for a finite Q / absmax (absmax below about Q / FLT_MAX: subnormals
// and the smallest normals, zeros among them), which the int types quantize to zeros;
// the second half of row 1 is ordinary, so the wider groups that take it in are not.
std::vector<float> TinyGroupsData() {
  const Tensor g = GaussianTensor(1, 32, 13);
  std::vector<float> v(128);
  for (size_t i = 0; i < 96; ++i) {
    v[i] = i % 5 == 0 ? 0.0f : std::ldexp(i % 2 ? 1.5f : -1.25f, -126 - static_cast<int>(i % 24));
  }
  v[33] = 1.9e-38f;  // a normal: 127 / v and 7 / v still overflow
  std::copy(g.data.begin(), g.data.end(), v.begin() + 96);
  return v;  // 2 x 64
}

std::vector<Input> Inputs() {
  std::vector<Input> in;
  std::vector<std::string> specials = AllEncodings(true);
  specials.push_back("int4/g32+rot:12345");
  specials.push_back("fp16+rot:7");
  in.push_back({"specials", {4, 64}, SpecialsData(), With(specials, kBlockRotationEncodings)});
  // Rows of 100 (odd factor 25): groups straddle rows, the last group is ragged; +rot64
  // blocks of 64, 32 and 4.
  in.push_back({"ragged", {5, 100}, OutlierTensor(5, 100, 3).data, AllEncodings(true, true)});
  // 7 elements: int4 leaves a high nibble empty; width 7 is all odd factor.
  in.push_back({"tiny",
                {1, 7},
                GaussianTensor(1, 7, 4).data,
                With(AllEncodings(true), kBlockRotationEncodings)});
  in.push_back({"rank3", {2, 3, 48}, OutlierTensor(6, 48, 5).data, AllEncodings(true)});
  // Width 77 has odd factor 77 > 63: no +rot (see the encode_error case); +rot64 blocks
  // of 64, 8, 4 and 1.
  in.push_back({"rank1",
                {77},
                GaussianTensor(1, 77, 6).data,
                With(AllEncodings(false), kBlockRotationEncodings)});
  in.push_back(
      {"wide",
       {2, 96},
       WideData(),
       {"fp32", "bf16", "int8/g32", "int8/g128", "int4/g32", "int4/g64", "fp32+rot", "bf16+rot"}});
  in.push_back({"subnormal",
                {2, 64},
                TinyGroupsData(),
                {"int8/g32", "int8/g64", "int8/g128", "int4/g32", "int4/g64", "int4/g128"}});
  // The real models' widths: SmolLM2 (576 = 64 * 9) and Gemma 3 (640 = 128 * 5).
  in.push_back({"smollm",
                {2, 576},
                OutlierTensor(2, 576, 7).data,
                With(kModelWidthEncodings, kBlockRotationEncodings)});
  in.push_back({"gemma",
                {1, 640},
                OutlierTensor(1, 640, 8).data,
                With(kModelWidthEncodings, kBlockRotationEncodings)});
  return in;
}

std::string FileName(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"/", "-"}, {"+", "-"}, {":", "-"}});
}

std::string ShapeText(const std::vector<uint32_t>& shape) { return absl::StrJoin(shape, "x"); }

std::string FloatBytes(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

absl::Status WriteFile(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path.string()));
  return absl::OkStatus();
}

std::string StatusCodeName(absl::StatusCode code) {
  return code == absl::StatusCode::kDataLoss ? "DATA_LOSS" : "INVALID_ARGUMENT";
}

// What decoding a serialized packet gives: OK, or the failure of FromProto/Decode.
absl::Status DecodeStatus(const std::string& bytes) {
  v1::LatentPacket proto;
  if (!proto.ParseFromString(bytes)) return absl::InvalidArgumentError("unparseable");
  absl::StatusOr<Packet> packet = FromProto(std::move(proto));
  if (!packet.ok()) return packet.status();
  return Decode(*packet).status();
}

class Writer {
 public:
  explicit Writer(fs::path dir) : dir_(std::move(dir)) {}

  absl::Status Init() {
    std::error_code ec;
    for (const char* sub : {"inputs", "packets", "decoded"}) {
      fs::create_directories(dir_ / sub, ec);
      if (ec) return absl::InternalError(absl::StrCat("cannot create ", (dir_ / sub).string()));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> AddInput(const std::string& name, const std::vector<float>& data) {
    const std::string rel = absl::StrCat("inputs/", name, ".f32");
    if (absl::Status s = WriteFile(dir_ / rel, FloatBytes(data)); !s.ok()) return s;
    return rel;
  }

  absl::Status AddRoundtrip(const Input& input, const std::string& input_rel,
                            const std::string& encoding_text) {
    absl::StatusOr<Encoding> encoding = ParseEncoding(encoding_text);
    if (!encoding.ok()) return encoding.status();
    Packet packet;
    if (absl::Status s = EncodeInto(input.data, input.shape, *encoding, &packet); !s.ok()) {
      return absl::InternalError(
          absl::StrCat(input.name, " as ", encoding_text, ": ", s.message()));
    }
    packet.model_id = kModelId;
    packet.model_fingerprint = kFingerprint;
    packet.space = Space::kHidden;
    packet.layer = kLayer;
    absl::StatusOr<Tensor> decoded = Decode(packet);
    if (!decoded.ok()) return decoded.status();
    const std::string name = absl::StrCat(input.name, "-", FileName(EncodingName(*encoding)));
    const std::string packet_rel = absl::StrCat("packets/", name, ".pb");
    const std::string decoded_rel = absl::StrCat("decoded/", name, ".f32");
    if (absl::Status s = WriteFile(dir_ / packet_rel, ToProto(packet).SerializeAsString());
        !s.ok()) {
      return s;
    }
    if (absl::Status s = WriteFile(dir_ / decoded_rel, FloatBytes(decoded->data)); !s.ok()) {
      return s;
    }
    cases_.push_back({"roundtrip", name, ShapeText(input.shape), EncodingName(*encoding), input_rel,
                      packet_rel, decoded_rel, "-"});
    return absl::OkStatus();
  }

  // A damaged copy of `base`; `recompute` re-seals the checksum so that only the
  // damage itself is wrong.
  absl::Status AddDecodeError(const std::string& name, const Packet& base, bool recompute,
                              const std::function<void(Packet*)>& damage_packet,
                              const std::function<void(v1::LatentPacket*)>& damage_proto,
                              absl::StatusCode expect) {
    Packet p = base;
    if (damage_packet) damage_packet(&p);
    if (recompute) p.checksum = ComputeChecksum(p);
    v1::LatentPacket proto = ToProto(p);
    if (damage_proto) damage_proto(&proto);
    const std::string bytes = proto.SerializeAsString();
    const absl::Status got = DecodeStatus(bytes);
    if (got.code() != expect) {
      return absl::InternalError(absl::StrCat("decode_error case ", name, " gives ", got.ToString(),
                                              ", expected ", StatusCodeName(expect)));
    }
    const std::string rel = absl::StrCat("packets/error-", name, ".pb");
    if (absl::Status s = WriteFile(dir_ / rel, bytes); !s.ok()) return s;
    cases_.push_back({"decode_error", name, "-", "-", "-", rel, "-", StatusCodeName(expect)});
    return absl::OkStatus();
  }

  absl::Status AddEncodeError(const std::string& name, const std::vector<uint32_t>& shape,
                              const std::vector<float>& data, const std::string& encoding_text) {
    absl::StatusOr<Encoding> encoding = ParseEncoding(encoding_text);
    if (!encoding.ok()) return encoding.status();
    Packet p;
    const absl::Status got = EncodeInto(data, shape, *encoding, &p);
    if (got.code() != absl::StatusCode::kInvalidArgument) {
      return absl::InternalError(
          absl::StrCat("encode_error case ", name, " gives ", got.ToString()));
    }
    absl::StatusOr<std::string> input = AddInput(absl::StrCat("error-", name), data);
    if (!input.ok()) return input.status();
    cases_.push_back({"encode_error", name, ShapeText(shape), encoding_text, *input, "-", "-",
                      "INVALID_ARGUMENT"});
    return absl::OkStatus();
  }

  absl::Status WriteManifest() const {
    std::ostringstream out;
    out << "# latentbus codec test vectors (codec/vectors.h describes the format).\n"
        << "# Generated by `latentbus codec vectors --out DIR`; do not edit.\n"
        << "# KIND NAME SHAPE ENCODING INPUT PACKET DECODED EXPECT\n";
    for (const VectorCase& c : cases_) {
      out << c.kind << " " << c.name << " " << c.shape << " " << c.encoding << " " << c.input << " "
          << c.packet << " " << c.decoded << " " << c.expect << "\n";
    }
    return WriteFile(dir_ / "manifest.txt", out.str());
  }

 private:
  fs::path dir_;
  std::vector<VectorCase> cases_;
};

absl::Status AddDecodeErrors(Writer& w) {
  const std::vector<Input> inputs = Inputs();
  const Input& specials = inputs[0];
  auto encode = [&](const std::vector<uint32_t>& shape, const std::vector<float>& data,
                    const char* enc) {
    Packet p;
    (void)EncodeInto(data, shape, *ParseEncoding(enc), &p);
    p.model_id = kModelId;
    p.model_fingerprint = kFingerprint;
    p.space = Space::kHidden;
    p.layer = kLayer;
    return p;
  };
  const Packet int4 = encode(specials.shape, specials.data, "int4/g32");
  const Packet int8 = encode(specials.shape, specials.data, "int8/g64");
  const Packet fp32 = encode(specials.shape, specials.data, "fp32");
  const Packet fp16 = encode(specials.shape, specials.data, "fp16");
  const Packet bf16 = encode(specials.shape, specials.data, "bf16");
  using P = Packet*;
  using W = v1::LatentPacket*;
  const auto kInvalid = absl::StatusCode::kInvalidArgument;
  const auto kDataLoss = absl::StatusCode::kDataLoss;
  auto set_float = [](std::string* bytes, size_t index, float value) {
    std::memcpy(bytes->data() + index * sizeof(float), &value, sizeof(float));
  };
  struct Case {
    const char* name;
    const Packet* base;
    bool recompute;
    std::function<void(Packet*)> packet;
    std::function<void(v1::LatentPacket*)> proto;
    absl::StatusCode expect;
  };
  const std::vector<Case> cases = {
      {"checksum-flipped", &int4, false, nullptr, [](W p) { p->set_checksum(p->checksum() ^ 1); },
       kDataLoss},
      {"payload-bit-flipped", &int4, false, [](P p) { p->payload[5] ^= 1; }, nullptr, kDataLoss},
      {"scale-bit-flipped", &int8, false, [](P p) { p->scales[1] ^= 0x10; }, nullptr, kDataLoss},
      {"payload-truncated", &int4, true, [](P p) { p->payload.pop_back(); }, nullptr, kInvalid},
      {"payload-extra-byte", &fp16, true, [](P p) { p->payload.push_back('\0'); }, nullptr,
       kInvalid},
      {"scales-truncated", &int8, true, [](P p) { p->scales.resize(p->scales.size() - 4); },
       nullptr, kInvalid},
      {"scales-on-float", &fp32, true, [](P p) { p->scales = std::string(4, '\0'); }, nullptr,
       kInvalid},
      {"shape-mismatch", &int4, true, [](P p) { p->shape[0] += 1; }, nullptr, kInvalid},
      {"rank-0", &fp32, true, [](P p) { p->shape.clear(); }, nullptr, kInvalid},
      {"rank-5", &fp32, false, nullptr,
       [](W p) {
         p->clear_shape();
         for (uint32_t d : {1, 1, 1, 4, 64}) p->add_shape(d);
       },
       kInvalid},
      {"zero-dim", &fp32, true,
       [](P p) {
         p->shape = {0, 64};
       },
       nullptr, kInvalid},
      {"too-many-elements", &int4, true,
       [](P p) {
         p->shape = {65536, 65536};
       },
       nullptr, kInvalid},
      {"unknown-dtype", &int4, false, nullptr,
       [](W p) { p->mutable_encoding()->set_dtype(static_cast<v1::DType>(9)); }, kInvalid},
      {"unspecified-dtype", &int4, false, nullptr,
       [](W p) { p->mutable_encoding()->set_dtype(v1::DTYPE_UNSPECIFIED); }, kInvalid},
      {"unknown-rotation", &int4, false, nullptr,
       [](W p) { p->mutable_encoding()->set_rotation(static_cast<v1::Rotation>(7)); }, kInvalid},
      {"format-version-2", &int4, true, [](P p) { p->format_version = 2; }, nullptr, kInvalid},
      {"group-size-48", &int8, true, [](P p) { p->encoding.group_size = 48; }, nullptr, kInvalid},
      {"group-size-on-float", &fp16, true, [](P p) { p->encoding.group_size = 32; }, nullptr,
       kInvalid},
      {"negative-scale", &int4, true, [&](P p) { set_float(&p->scales, 1, -1.0f); }, nullptr,
       kInvalid},
      {"nan-scale", &int8, true, [&](P p) { set_float(&p->scales, 0, std::nanf("")); }, nullptr,
       kInvalid},
      {"huge-scale", &int4, true, [&](P p) { set_float(&p->scales, 2, std::ldexp(1.0f, 121)); },
       nullptr, kInvalid},
      {"nan-fp32", &fp32, true, [&](P p) { set_float(&p->payload, 3, std::nanf("")); }, nullptr,
       kInvalid},
      {"inf-fp32", &fp32, true,
       [&](P p) { set_float(&p->payload, 9, -std::numeric_limits<float>::infinity()); }, nullptr,
       kInvalid},
      {"inf-fp16", &fp16, true,
       [](P p) {
         p->payload[8] = '\x00';
         p->payload[9] = '\x7c';
       },
       nullptr, kInvalid},
      {"nan-bf16", &bf16, true,
       [](P p) {
         p->payload[2] = '\xc1';  // 0x7fc1: a NaN
         p->payload[3] = '\x7f';
       },
       nullptr, kInvalid},
      {"rotation-unsupported-width", &fp32, true,
       [](P p) {
         p->shape = {1, 77};
         p->payload.resize(77 * 4);
         p->encoding.rotation = RotationKind::kHadamard;
         p->encoding.rotation_seed = 1;
       },
       nullptr, kInvalid},
      // -0 is a legal scale; it must not hide the huge one beside it from the overflow
      // check (its bit pattern is the largest of all).
      {"rotation-overflow-beside-negative-zero-scale", &int8, true,
       [&](P p) {
         p->encoding.rotation = RotationKind::kHadamard64;
         p->encoding.rotation_seed = kDefaultRotationSeed;
         for (size_t i = 0; i < 64; ++i) p->payload[i] = '\x7f';
         set_float(&p->scales, 0, std::ldexp(1.0f, 120));
         set_float(&p->scales, 1, -0.0f);
       },
       nullptr, kInvalid},
      {"rotation-overflow", &fp32, true,
       [&](P p) {
         p->encoding.rotation = RotationKind::kHadamard;
         p->encoding.rotation_seed = kDefaultRotationSeed;
         for (size_t i = 0; i < 64; ++i) set_float(&p->payload, i, 3e38f);
       },
       nullptr, kInvalid},
  };
  for (const Case& c : cases) {
    if (absl::Status s =
            w.AddDecodeError(c.name, *c.base, c.recompute, c.packet, c.proto, c.expect);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

// The row whose rotation (width row.size(), `seed`) is `row`.
std::vector<float> Unrotated(std::vector<float> row, uint64_t seed) {
  Rotation::Create(row.size(), seed)->Inverse(row.data(), 1);
  return row;
}

absl::Status AddEncodeErrors(Writer& w) {
  const float inf = std::numeric_limits<float>::infinity();
  struct Case {
    const char* name;
    std::vector<uint32_t> shape;
    std::vector<float> data;
    const char* encoding;
  };
  const std::vector<Case> cases = {
      {"nan", {2, 4}, {1, 2, 3, std::nanf(""), 5, 6, 7, 8}, "fp32"},
      {"inf-int8", {2, 4}, {1, 2, 3, 4, 5, inf, 7, 8}, "int8/g32"},
      {"fp16-overflow", {2, 4}, {1, 2, 3, 4, 5, 6, 65520.0f, 8}, "fp16"},
      {"bf16-overflow", {2, 4}, {1, -std::numeric_limits<float>::max(), 3, 4, 5, 6, 7, 8}, "bf16"},
      {"int4-limit", {2, 4}, {1, 2, 3, 4, 5, 6, 7, std::ldexp(1.0f, 120)}, "int4/g32"},
      // Within fp16 range before the rotation (+-60000), beyond it after (120000).
      {"fp16-overflow-after-rotation", {1, 4}, Unrotated({120000, 0, 0, 0}, 3), "fp16+rot:3"},
      {"rotation-unsupported-width", {77}, std::vector<float>(77, 0.5f), "int4/g32+rot"},
  };
  for (const Case& c : cases) {
    if (absl::Status s = w.AddEncodeError(c.name, c.shape, c.data, c.encoding); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteCodecVectors(const std::string& dir) {
  Writer w{fs::path(dir)};
  if (absl::Status s = w.Init(); !s.ok()) return s;
  for (const Input& input : Inputs()) {
    absl::StatusOr<std::string> rel = w.AddInput(input.name, input.data);
    if (!rel.ok()) return rel.status();
    for (const std::string& encoding : input.encodings) {
      if (absl::Status s = w.AddRoundtrip(input, *rel, encoding); !s.ok()) return s;
    }
  }
  if (absl::Status s = AddDecodeErrors(w); !s.ok()) return s;
  if (absl::Status s = AddEncodeErrors(w); !s.ok()) return s;
  return w.WriteManifest();
}

absl::StatusOr<std::vector<uint32_t>> ParseVectorShape(const std::string& text) {
  std::vector<uint32_t> shape;
  for (absl::string_view part : absl::StrSplit(text, 'x')) {
    uint32_t d;
    if (!absl::SimpleAtoi(part, &d)) {
      return absl::InvalidArgumentError(absl::StrCat("bad shape '", text, "'"));
    }
    shape.push_back(d);
  }
  return shape;
}

absl::StatusOr<std::vector<VectorCase>> ReadVectorManifest(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::vector<VectorCase> cases;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f = absl::StrSplit(line, ' ');
    if (f.size() != 8) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", number, ": expected 8 fields, got ", f.size()));
    }
    cases.push_back({f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]});
  }
  return cases;
}

}  // namespace latentbus::codec
