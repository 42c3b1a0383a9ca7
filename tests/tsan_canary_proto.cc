// A deliberate data race on a protobuf message handed to gRPC's serializer, built only in
// TSan builds (scripts/tsan.sh expects it reported): the suppressions in
// tests/tsan_absl_sync.cc name gRPC's own frames only, so a race between our code and gRPC
// serialising a message we still write must stay visible.
#include <string>
#include <thread>

#include "grpcpp/impl/codegen/proto_utils.h"
#include "latentbus/v1/envelope.pb.h"

int main() {
  latentbus::v1::Envelope envelope;
  envelope.set_message_id("m1");
  envelope.set_text(std::string(64, 'x'));
  std::thread writer([&envelope] {
    for (uint32_t i = 0; i < 2000; ++i) envelope.set_delivery_attempt(i);  // the race
  });
  std::thread serializer([&envelope] {
    for (int i = 0; i < 2000; ++i) {
      grpc::ByteBuffer bytes;
      bool own = false;
      (void)grpc::SerializationTraits<latentbus::v1::Envelope>::Serialize(envelope, &bytes, &own);
    }
  });
  writer.join();
  serializer.join();
  return 0;
}
