// The codec on a CUDA device: latent packets from tensors in device memory, and back,
// with the quantization and rotation done on the device. Only the packet's payload and
// scales cross to the host when encoding (and back when decoding).
//
// Output contract: exactly the bytes and floats of the CPU codec (codec/packet.h) for the
// same input, checked against the shared vectors in codec/testdata/vectors and against the
// CPU codec on random tensors (device_codec_test.cc, run by scripts/cuda/check.sh on a GPU).
// On the device: int8 and int4 at every group size, with no rotation, "+rot" or "+rot64".
// fp32, fp16 and bf16 packets go through the host (device -> host copy, CPU codec).
//
// This header has no CUDA types; a build without CUDA (LATENTBUS_CUDA off) still links
// it, and every call then fails with FailedPrecondition. Errors: the CPU codec's (same
// codes, same texts) for bad shapes, encodings, values and packets; FailedPrecondition
// when there is no usable device; Internal for a CUDA failure (with CUDA's text).
//
// Thread safety: functions are safe to call concurrently. Work is enqueued on the calling
// thread's default stream (cudaStreamPerThread) of the current device, and each call
// returns when it is done. Input written on another stream (a framework's) must be
// complete before the call: synchronize that stream first.
#ifndef LATENTBUS_CODEC_CUDA_DEVICE_CODEC_H_
#define LATENTBUS_CODEC_CUDA_DEVICE_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "codec/packet.h"

namespace latentbus::codec::cuda {

// Whether this build has the device codec (configured with LATENTBUS_CUDA).
bool Built();

// OK when this build has the device codec and a CUDA device can be used; else
// FailedPrecondition saying why (not built, no driver, no device).
absl::Status CheckDevice();

// Makes GPU `index` the calling thread's current device, which the device codec's calls
// run on (callers with a framework's tensor pass that tensor's device).
// InvalidArgument for an index outside [0, devices); FailedPrecondition without a device.
absl::Status UseDevice(int index);

// The device's name and compute capability ("NVIDIA H100 80GB HBM3, sm_90"), or the
// reason there is none.
std::string DeviceDescription();

// Device memory owned by this object; freed by the destructor.
class DeviceBuffer {
 public:
  static absl::StatusOr<DeviceBuffer> Allocate(size_t bytes);

  DeviceBuffer() = default;
  DeviceBuffer(DeviceBuffer&& other) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer();

  void* data() const { return data_; }
  float* floats() const { return static_cast<float*>(data_); }
  size_t size() const { return size_; }

  // Copies `bytes` (<= size()) from / to host memory.
  absl::Status CopyFromHost(const void* src, size_t bytes);
  absl::Status CopyToHost(void* dst, size_t bytes) const;
  // Copies `bytes` (<= both sizes) from another device buffer; returns when done.
  absl::Status CopyFromDevice(const DeviceBuffer& src, size_t bytes);

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

// Encodes the floats at `device_data` (row-major, `shape`; device memory) into `out` as
// EncodeInto (codec/packet.h) does; `count` is the number of floats there, checked
// against the shape.
absl::Status EncodeFromDevice(const float* device_data, size_t count,
                              const std::vector<uint32_t>& shape, const Encoding& encoding,
                              Packet* out);

// Validates `packet` on the host (ValidatePacket), then decodes it into `device_out`
// (device memory holding exactly product(shape) floats, `count`), as DecodeInto does.
absl::Status DecodeToDevice(const Packet& packet, float* device_out, size_t count,
                            const DecodeLimits& limits = {});

}  // namespace latentbus::codec::cuda

#endif  // LATENTBUS_CODEC_CUDA_DEVICE_CODEC_H_
