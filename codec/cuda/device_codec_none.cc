// The device codec in a build without CUDA (LATENTBUS_CUDA off): every call says so.
#include "codec/cuda/device_codec.h"

namespace latentbus::codec::cuda {
namespace {

absl::Status NotBuilt() {
  return absl::FailedPreconditionError(
      "this build has no CUDA device codec (configure with -DLATENTBUS_CUDA=ON on a machine "
      "with the CUDA toolkit)");
}

}  // namespace

bool Built() { return false; }
absl::Status CheckDevice() { return NotBuilt(); }
absl::Status UseDevice(int) { return NotBuilt(); }
std::string DeviceDescription() { return std::string(NotBuilt().message()); }

absl::StatusOr<DeviceBuffer> DeviceBuffer::Allocate(size_t) { return NotBuilt(); }
DeviceBuffer::DeviceBuffer(DeviceBuffer&& other) noexcept = default;
DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept = default;
DeviceBuffer::~DeviceBuffer() = default;
absl::Status DeviceBuffer::CopyFromHost(const void*, size_t) { return NotBuilt(); }
absl::Status DeviceBuffer::CopyToHost(void*, size_t) const { return NotBuilt(); }
absl::Status DeviceBuffer::CopyFromDevice(const DeviceBuffer&, size_t) { return NotBuilt(); }

absl::Status EncodeFromDevice(const float*, size_t, const std::vector<uint32_t>&, const Encoding&,
                              Packet*) {
  return NotBuilt();
}

absl::Status DecodeToDevice(const Packet&, float*, size_t, const DecodeLimits&) {
  return NotBuilt();
}

}  // namespace latentbus::codec::cuda
