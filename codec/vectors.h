// Shared codec test vectors: inputs, packets and decoded floats produced by this codec,
// committed under codec/testdata/vectors and checked by codec/vectors_test.cc and by
// the Python SDK (sdk/python/tests/test_codec_vectors.py), so that every implementation
// of codec/packet.h writes byte-identical packets and decodes them to identical floats.
//
// Folder layout (all binary files little-endian):
//   manifest.txt   one case per line, fields separated by single spaces, '-' = none:
//                    KIND NAME SHAPE ENCODING INPUT PACKET DECODED EXPECT
//                  KIND roundtrip:    encode(INPUT as SHAPE, ENCODING) with the routing
//                                     metadata of PACKET must give exactly PACKET's bytes;
//                                     decode(PACKET) must give exactly DECODED's floats.
//                  KIND decode_error: decode(PACKET) must fail with status EXPECT
//                                     (INVALID_ARGUMENT, or DATA_LOSS for a checksum).
//                  KIND encode_error: encode(INPUT as SHAPE, ENCODING) must fail with EXPECT.
//                  SHAPE is "4x64" style; ENCODING is an EncodingName ("int4/g32+rot").
//                  Lines starting with '#' are comments.
//   inputs/*.f32   float32 tensors (row-major).
//   packets/*.pb   serialized latentbus.v1.LatentPacket messages.
//   decoded/*.f32  float32 tensors.
//
// Regenerate with `latentbus codec vectors --out codec/testdata/vectors`; the files only
// change when the codec's output does, which breaks compatibility with every peer. (The
// Gaussian inputs come from codec/synthetic.h, i.e. libstdc++'s normal_distribution:
// the generator reproduces them bit for bit with that standard library.)
#ifndef LATENTBUS_CODEC_VECTORS_H_
#define LATENTBUS_CODEC_VECTORS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace latentbus::codec {

struct VectorCase {
  std::string kind;  // "roundtrip", "decode_error", "encode_error"
  std::string name;
  std::string shape;     // "4x64", or "-"
  std::string encoding;  // EncodingName, or "-"
  std::string input;     // paths relative to the folder, or "-"
  std::string packet;
  std::string decoded;
  std::string expect;  // status code name for the error kinds, else "-"
};

// Writes every vector file and manifest.txt under `dir` (created if missing). Files
// of earlier runs that the manifest no longer names are left alone.
absl::Status WriteCodecVectors(const std::string& dir);

// Parses manifest.txt. InvalidArgument for a malformed line.
absl::StatusOr<std::vector<VectorCase>> ReadVectorManifest(const std::string& path);

// "4x64" -> {4, 64}. InvalidArgument for anything else.
absl::StatusOr<std::vector<uint32_t>> ParseVectorShape(const std::string& text);

}  // namespace latentbus::codec

#endif  // LATENTBUS_CODEC_VECTORS_H_
