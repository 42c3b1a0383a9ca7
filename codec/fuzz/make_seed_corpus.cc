// Writes the fuzzer's seed corpus: one valid serialized packet per encoding and a few
// shapes. Usage: codec_fuzz_seeds DIR
#include <fstream>
#include <iostream>
#include <string>

#include "codec/packet.h"
#include "codec/packet_proto.h"
#include "codec/synthetic.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " DIR\n";
    return 2;
  }
  using latentbus::codec::ParseEncoding;
  int written = 0;
  for (const char* enc : {"fp32", "fp16", "bf16", "int8/g32", "int8/g128", "int4/g32", "int4/g64",
                          "int4/g32+rot", "fp16+rot:5"}) {
    for (auto [rows, width] : {std::pair<uint32_t, uint32_t>{2, 64}, {3, 40}, {1, 7}}) {
      latentbus::codec::Tensor t = latentbus::codec::OutlierTensor(rows, width, 1, 1, 8.0f);
      absl::StatusOr<latentbus::codec::Packet> p = latentbus::codec::Encode(t, *ParseEncoding(enc));
      if (!p.ok()) {
        std::cerr << enc << ": " << p.status() << "\n";
        return 1;
      }
      p->model_id = "seed";
      p->space = latentbus::codec::Space::kHidden;
      std::string name = std::string(argv[1]) + "/" + enc + "_" + std::to_string(rows) + "x" +
                         std::to_string(width);
      for (size_t i = std::string(argv[1]).size() + 1; i < name.size(); ++i) {
        if (name[i] == '/' || name[i] == '+' || name[i] == ':') name[i] = '_';
      }
      std::ofstream(name, std::ios::binary)
          << latentbus::codec::ToProto(*std::move(p)).SerializeAsString();
      ++written;
    }
  }
  std::cout << "wrote " << written << " seeds to " << argv[1] << "\n";
  return 0;
}
