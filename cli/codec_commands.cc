// `latentbus codec ...`: see what the codec does to a tensor, and look inside packets.
#include <chrono>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "codec/packet.h"
#include "codec/packet_proto.h"
#include "codec/synthetic.h"
#include "codec/vectors.h"

namespace latentbus::cli {
namespace {

struct DemoArgs {
  uint32_t rows = 32;
  uint32_t width = 576;
  std::vector<std::string> encodings = {
      "fp32",      "fp16",         "bf16",          "int8/g32",       "int4/g32",
      "int4/g128", "int4/g32+rot", "int4/g128+rot", "int4/g32+rot64", "int4/g128+rot64"};
};

double MicrosSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
}

int RunDemo(const DemoArgs& args) {
  const codec::Tensor t = codec::OutlierTensor(args.rows, args.width, 7);
  const size_t float_bytes = t.data.size() * sizeof(float);
  std::cout << "latentbus codec demo: a " << codec::ShapeString(t.shape)
            << " tensor of soft tokens shaped like LLM hidden states (N(0,1), 4 outlier "
               "channels x20), kernels: "
            << codec::DefaultKernels().name << "\n\n"
            << std::left << std::setw(16) << "encoding" << std::right << std::setw(12)
            << "wire bytes" << std::setw(10) << "vs fp32" << std::setw(12) << "rel error"
            << std::setw(12) << "encode us" << std::setw(12) << "decode us"
            << "\n";
  std::string int4_wire;
  for (const std::string& name : args.encodings) {
    absl::StatusOr<codec::Encoding> e = codec::ParseEncoding(name);
    if (!e.ok()) {
      std::cerr << "error: " << e.status().message() << "\n";
      return 2;
    }
    // The first encode of a kind builds per-thread state (the rotation's signs, buffers);
    // the one timed is the second, what a sender pays per message.
    (void)codec::Encode(t, *e);
    auto t0 = std::chrono::steady_clock::now();
    absl::StatusOr<codec::Packet> packet = codec::Encode(t, *e);
    const double encode_us = MicrosSince(t0);
    if (!packet.ok()) {
      std::cerr << "error: " << packet.status().message() << "\n";
      return 1;
    }
    packet->model_id = "demo";
    packet->space = codec::Space::kHidden;
    // Through the wire format and back, as a receiver would see it.
    const std::string wire = codec::ToProto(*std::move(packet)).SerializeAsString();
    if (name == "int4/g32") int4_wire = wire;
    const auto receive = [&wire]() -> absl::StatusOr<codec::Tensor> {
      v1::LatentPacket parsed;
      if (!parsed.ParseFromString(wire)) return absl::InternalError("unparseable");
      absl::StatusOr<codec::Packet> received = codec::FromProto(std::move(parsed));
      if (!received.ok()) return received.status();
      return codec::Decode(*received);
    };
    (void)receive();  // as above: the second is timed
    t0 = std::chrono::steady_clock::now();
    absl::StatusOr<codec::Tensor> back = receive();
    const double decode_us = MicrosSince(t0);
    if (!back.ok()) {
      std::cerr << "error: " << back.status().message() << "\n";
      return 1;
    }
    std::cout << std::left << std::setw(16) << name << std::right << std::setw(12) << wire.size()
              << std::setw(9) << std::fixed << std::setprecision(1)
              << 100.0 * static_cast<double>(wire.size()) / static_cast<double>(float_bytes) << "%"
              << std::setw(12) << std::setprecision(5) << codec::RelativeError(t, back->data)
              << std::setw(12) << std::setprecision(1) << encode_us << std::setw(12) << decode_us
              << "\n";
  }
  if (!int4_wire.empty()) {
    std::cout << "\nEvery decode validates. An int4/g32 packet with damage:\n";
    struct Damage {
      const char* what;
      std::function<void(v1::LatentPacket*)> apply;
    };
    const Damage damages[] = {
        {"one payload bit flipped", [](v1::LatentPacket* p) { (*p->mutable_payload())[5] ^= 1; }},
        {"payload truncated", [](v1::LatentPacket* p) { p->mutable_payload()->pop_back(); }},
        {"shape changed", [](v1::LatentPacket* p) { p->set_shape(0, p->shape(0) + 1); }},
        {"unknown dtype from a newer peer",
         [](v1::LatentPacket* p) { p->mutable_encoding()->set_dtype(static_cast<v1::DType>(9)); }},
    };
    for (const Damage& d : damages) {
      v1::LatentPacket p;
      p.ParseFromString(int4_wire);
      d.apply(&p);
      absl::StatusOr<codec::Packet> received = codec::FromProto(std::move(p));
      absl::Status s = received.ok() ? codec::Decode(*received).status() : received.status();
      std::cout << "  " << std::left << std::setw(32) << d.what << " -> "
                << (s.ok() ? std::string("ACCEPTED (bug)") : s.ToString()) << "\n";
      if (s.ok()) return 1;
    }
  }
  return 0;
}

int RunInspect(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "error: cannot open " << path << "\n";
    return 1;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  v1::LatentPacket proto;
  if (!proto.ParseFromString(buf.str())) {
    std::cerr << "error: " << path << " is not a serialized latentbus.v1.LatentPacket\n";
    return 1;
  }
  std::cout << "model:     " << proto.model_id() << " (" << proto.model_fingerprint() << ")\n"
            << "space:     " << v1::Space_Name(proto.space()) << ", layer " << proto.layer()
            << "\n";
  absl::StatusOr<codec::Packet> packet = codec::FromProto(proto);
  if (!packet.ok()) {
    std::cout << "invalid:   " << packet.status() << "\n";
    return 1;
  }
  std::cout << "shape:     " << codec::ShapeString(packet->shape) << "\n"
            << "encoding:  " << codec::EncodingName(packet->encoding) << "\n"
            << "bytes:     payload " << packet->payload.size() << ", scales "
            << packet->scales.size() << ", wire " << codec::WireBytes(proto) << "\n";
  absl::StatusOr<codec::Tensor> t = codec::Decode(*packet);
  if (!t.ok()) {
    std::cout << "invalid:   " << t.status() << "\n";
    return 1;
  }
  double sum = 0, sq = 0;
  float lo = t->data.empty() ? 0 : t->data[0], hi = lo;
  for (float v : t->data) {
    sum += v;
    sq += static_cast<double>(v) * v;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  const double n = static_cast<double>(t->data.size());
  std::cout << "values:    min " << lo << " max " << hi << " mean " << sum / n << " rms "
            << std::sqrt(sq / n) << "\n"
            << "valid:     yes (checksum " << std::hex << packet->checksum << std::dec << ")\n";
  return 0;
}

int RunVectors(const std::string& out) {
  if (absl::Status s = codec::WriteCodecVectors(out); !s.ok()) {
    std::cerr << "error: " << s.message() << "\n";
    return 1;
  }
  std::cout << "wrote the codec test vectors to " << out << "\n";
  return 0;
}

}  // namespace

void RegisterCodecCommands(CLI::App& app, RunFn* run) {
  CLI::App* codec = app.add_subcommand("codec", "The latent codec: encodings, packets");
  codec->require_subcommand(1);

  auto demo_args = std::make_shared<DemoArgs>();
  CLI::App* demo = codec->add_subcommand(
      "demo",
      "Encode a hidden-state-like tensor in every encoding; show size, error, speed "
      "and how damaged packets are refused");
  demo->add_option("--rows", demo_args->rows, "Soft tokens (rows)")->check(CLI::Range(1, 65536));
  demo->add_option("--width", demo_args->width, "Vector width")->check(CLI::Range(1, 65536));
  demo->add_option("--encoding", demo_args->encodings, "Encodings to show");
  demo->callback([demo_args, run] { *run = [demo_args] { return RunDemo(*demo_args); }; });

  auto path = std::make_shared<std::string>();
  CLI::App* inspect = codec->add_subcommand(
      "inspect", "Validate and describe a serialized latentbus.v1.LatentPacket file");
  inspect->add_option("FILE", *path, "Packet file")->required()->check(CLI::ExistingFile);
  inspect->callback([path, run] { *run = [path] { return RunInspect(*path); }; });

  auto out = std::make_shared<std::string>();
  CLI::App* vectors = codec->add_subcommand(
      "vectors",
      "Write the shared test vectors (inputs, packets, decoded floats, damaged packets) that "
      "every codec implementation must reproduce (format in codec/vectors.h)");
  vectors->add_option("--out", *out, "Folder, e.g. codec/testdata/vectors")->required();
  vectors->callback([out, run] { *run = [out] { return RunVectors(*out); }; });
}

}  // namespace latentbus::cli
