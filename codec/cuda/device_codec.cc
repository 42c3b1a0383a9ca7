// The host side of the device codec (device_codec.h): checks, device memory, copies and
// the packet's checksum; the kernels are in device_kernels.cu.
#include "codec/cuda/device_codec.h"

#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "codec/cuda/device_kernels.h"
#include "codec/cuda/runtime.h"
#include "codec/rotation.h"

namespace latentbus::codec::cuda {
namespace {

using internal::DeviceRotationPlan;

// Work runs on the calling thread's default stream: concurrent callers do not wait for
// each other, and a call returns when its stream is done.
void* Stream() { return static_cast<void*>(cudaStreamPerThread); }

absl::Status CudaError(cudaError_t e, const char* what) {
  return absl::InternalError(absl::StrCat("CUDA ", what, ": ", cudaGetErrorString(e)));
}

absl::Status Check(int e, const char* what) {
  return e == 0 ? absl::OkStatus() : CudaError(static_cast<cudaError_t>(e), what);
}

// One stream-ordered allocation carved into aligned pieces; freed on the stream.
class Scratch {
 public:
  // Reserves `bytes` and returns its offset in the allocation.
  size_t Reserve(size_t bytes) {
    const size_t at = total_;
    total_ += (bytes + 255) / 256 * 256;
    return at;
  }
  absl::Status Allocate() {
    if (total_ == 0) return absl::OkStatus();
    pooled_ = PoolsSupported();
    if (!pooled_) return Check(cudaMalloc(&base_, total_), "allocation");
    return Check(cudaMallocAsync(&base_, total_, cudaStreamPerThread), "allocation");
  }
  template <typename T>
  T* At(size_t offset) const {
    return reinterpret_cast<T*>(static_cast<char*>(base_) + offset);
  }
  ~Scratch() {
    if (base_ == nullptr) return;
    if (pooled_) {
      cudaFreeAsync(base_, cudaStreamPerThread);
    } else {
      cudaFree(base_);
    }
    cudaGetLastError();  // a failure here must not be reported by the next call
  }

 private:
  // Whether the current device has stream-ordered memory pools (not every virtualized GPU
  // does); where it does, its default pool keeps freed memory for the next call instead
  // of handing it back at every synchronization.
  static bool PoolsSupported() {
    int device = 0;
    int supported = 0;
    if (cudaGetDevice(&device) != cudaSuccess ||
        cudaDeviceGetAttribute(&supported, cudaDevAttrMemoryPoolsSupported, device) !=
            cudaSuccess ||
        supported == 0) {
      cudaGetLastError();
      return false;
    }
    thread_local int configured = -1;
    if (configured != device) {
      cudaMemPool_t pool;
      if (cudaDeviceGetDefaultMemPool(&pool, device) == cudaSuccess) {
        uint64_t keep = uint64_t{1} << 30;
        cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep);
      }
      cudaGetLastError();
      configured = device;
    }
    return true;
  }

  void* base_ = nullptr;
  size_t total_ = 0;
  bool pooled_ = true;
};

// A rotation's tables uploaded into `scratch` (offsets reserved by Reserve).
struct RotationUpload {
  const Rotation* rotation = nullptr;
  size_t signs = 0;
  size_t dct = 0;
  size_t mix = 0;  // rows x width floats for the DCT stage of "+rot"

  void Reserve(Scratch& scratch, size_t n) {
    const RotationPlan p = rotation->plan();
    signs = scratch.Reserve(p.width * sizeof(float));
    if (p.dct != nullptr) {
      dct = scratch.Reserve(p.odd * p.odd * sizeof(float));
      mix = scratch.Reserve(n * sizeof(float));
    }
  }
  absl::Status Upload(const Scratch& scratch) const {
    const RotationPlan p = rotation->plan();
    if (cudaError_t e = cudaMemcpyAsync(scratch.At<float>(signs), p.signs, p.width * sizeof(float),
                                        cudaMemcpyHostToDevice, cudaStreamPerThread);
        e != cudaSuccess) {
      return CudaError(e, "copy of the rotation's signs");
    }
    if (p.dct != nullptr) {
      if (cudaError_t e =
              cudaMemcpyAsync(scratch.At<float>(dct), p.dct, p.odd * p.odd * sizeof(float),
                              cudaMemcpyHostToDevice, cudaStreamPerThread);
          e != cudaSuccess) {
        return CudaError(e, "copy of the rotation's DCT");
      }
    }
    return absl::OkStatus();
  }
  DeviceRotationPlan Plan(const Scratch& scratch) const {
    const RotationPlan p = rotation->plan();
    DeviceRotationPlan d;
    d.width = p.width;
    d.pow2 = p.pow2;
    d.odd = p.odd;
    d.block = p.block;
    d.signs = scratch.At<float>(signs);
    d.dct = p.dct != nullptr ? scratch.At<float>(dct) : nullptr;
    return d;
  }
  float* MixBuffer(const Scratch& scratch) const {
    return rotation->plan().dct != nullptr ? scratch.At<float>(mix) : nullptr;
  }
};

absl::Status Synchronize() {
  return Check(cudaStreamSynchronize(cudaStreamPerThread), "synchronization");
}

absl::Status Copy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, const char* what) {
  if (bytes == 0) return absl::OkStatus();
  return Check(cudaMemcpyAsync(dst, src, bytes, kind, cudaStreamPerThread), what);
}

int QuantMax(DType dtype) { return dtype == DType::kInt8 ? 127 : 7; }

// The float types: the tensor goes to the host and through the CPU codec.
absl::Status EncodeViaHost(const float* device_data, size_t n, const std::vector<uint32_t>& shape,
                           const Encoding& encoding, Packet* out) {
  std::vector<float> host(n);
  if (absl::Status s = Copy(host.data(), device_data, n * sizeof(float), cudaMemcpyDeviceToHost,
                            "copy to the host");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = Synchronize(); !s.ok()) return s;
  return EncodeInto(host, shape, encoding, out);
}

}  // namespace

bool Built() { return true; }

absl::Status CheckDevice() {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    cudaGetLastError();  // not sticky: clear it
    int driver = 0, runtime = 0;
    cudaDriverGetVersion(&driver);
    cudaRuntimeGetVersion(&runtime);
    const auto version = [](int v) { return absl::StrCat(v / 1000, ".", v % 1000 / 10); };
    if (e == cudaErrorInsufficientDriver && driver == 0) {
      return absl::FailedPreconditionError("no usable CUDA device: no NVIDIA driver is installed");
    }
    if (e == cudaErrorInsufficientDriver) {
      return absl::FailedPreconditionError(
          absl::StrCat("no usable CUDA device: the NVIDIA driver supports CUDA ", version(driver),
                       ", this build needs ", version(runtime)));
    }
    return absl::FailedPreconditionError(
        absl::StrCat("no usable CUDA device: ", cudaGetErrorString(e)));
  }
  if (count == 0) return absl::FailedPreconditionError("no usable CUDA device: none found");
  return absl::OkStatus();
}

absl::Status UseDevice(int index) {
  if (absl::Status s = CheckDevice(); !s.ok()) return s;
  int count = 0;
  cudaGetDeviceCount(&count);
  if (index < 0 || index >= count) {
    return absl::InvalidArgumentError(
        absl::StrCat("CUDA device ", index, " does not exist (", count, " found)"));
  }
  return Check(cudaSetDevice(index), "device selection");
}

std::string DeviceDescription() {
  if (absl::Status s = CheckDevice(); !s.ok()) return std::string(s.message());
  int device = 0;
  cudaDeviceProp prop;
  if (cudaGetDevice(&device) != cudaSuccess ||
      cudaGetDeviceProperties(&prop, device) != cudaSuccess) {
    return "CUDA device (properties unavailable)";
  }
  return absl::StrCat(prop.name, ", sm_", prop.major, prop.minor, ", ", prop.totalGlobalMem >> 20,
                      " MiB");
}

absl::StatusOr<DeviceBuffer> DeviceBuffer::Allocate(size_t bytes) {
  if (absl::Status s = CheckDevice(); !s.ok()) return s;
  DeviceBuffer b;
  if (bytes > 0) {
    if (cudaError_t e = cudaMalloc(&b.data_, bytes); e != cudaSuccess) {
      return CudaError(e, absl::StrCat("allocation of ", bytes, " bytes").c_str());
    }
  }
  b.size_ = bytes;
  return b;
}

DeviceBuffer::DeviceBuffer(DeviceBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) cudaFree(data_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

DeviceBuffer::~DeviceBuffer() {
  if (data_ != nullptr) cudaFree(data_);
}

absl::Status DeviceBuffer::CopyFromHost(const void* src, size_t bytes) {
  if (bytes > size_) {
    return absl::InvalidArgumentError(
        absl::StrCat("copy of ", bytes, " bytes into a device buffer of ", size_));
  }
  if (bytes == 0) return absl::OkStatus();
  return Check(cudaMemcpy(data_, src, bytes, cudaMemcpyHostToDevice), "copy to the device");
}

absl::Status DeviceBuffer::CopyToHost(void* dst, size_t bytes) const {
  if (bytes > size_) {
    return absl::InvalidArgumentError(
        absl::StrCat("copy of ", bytes, " bytes out of a device buffer of ", size_));
  }
  if (bytes == 0) return absl::OkStatus();
  return Check(cudaMemcpy(dst, data_, bytes, cudaMemcpyDeviceToHost), "copy to the host");
}

absl::Status DeviceBuffer::CopyFromDevice(const DeviceBuffer& src, size_t bytes) {
  if (bytes > size_ || bytes > src.size_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "copy of ", bytes, " bytes from a device buffer of ", src.size_, " into one of ", size_));
  }
  if (absl::Status s = Copy(data_, src.data_, bytes, cudaMemcpyDeviceToDevice, "device copy");
      !s.ok()) {
    return s;
  }
  return Synchronize();
}

absl::Status EncodeFromDevice(const float* device_data, size_t count,
                              const std::vector<uint32_t>& shape, const Encoding& encoding,
                              Packet* out) {
  if (absl::Status s = CheckDevice(); !s.ok()) return s;
  if (absl::Status s = ValidateEncoding(encoding); !s.ok()) return s;
  absl::StatusOr<size_t> n = CheckedElements(shape, DecodeLimits{}.max_elements);
  if (!n.ok()) return n.status();
  if (*n != count) {
    return absl::InvalidArgumentError(
        absl::StrCat("shape ", ShapeString(shape), " needs ", *n, " elements, got ", count));
  }
  if (!IsQuantized(encoding.dtype)) return EncodeViaHost(device_data, *n, shape, encoding, out);

  std::optional<Rotation> rotation;
  if (IsRotated(encoding.rotation)) {
    absl::StatusOr<Rotation> r =
        Rotation::Create(shape.back(), encoding.rotation_seed, encoding.rotation);
    if (!r.ok()) return r.status();
    rotation.emplace(*std::move(r));
  }
  const size_t groups = NumGroups(encoding, *n);
  const size_t payload_bytes = PayloadBytes(encoding, *n);
  Scratch scratch;
  const size_t scales_at = scratch.Reserve(groups * sizeof(float));
  const size_t payload_at = scratch.Reserve(payload_bytes);
  const size_t error_at = scratch.Reserve(sizeof(uint32_t));
  size_t rotated_at = 0;
  RotationUpload upload;
  if (rotation) {
    rotated_at = scratch.Reserve(*n * sizeof(float));
    upload.rotation = &*rotation;
    upload.Reserve(scratch, *n);
  }
  if (absl::Status s = scratch.Allocate(); !s.ok()) return s;
  uint32_t* error = scratch.At<uint32_t>(error_at);
  if (absl::Status s =
          Check(cudaMemsetAsync(error, 0, sizeof(uint32_t), cudaStreamPerThread), "memset");
      !s.ok()) {
    return s;
  }
  const float* input = device_data;
  if (rotation) {
    if (absl::Status s = upload.Upload(scratch); !s.ok()) return s;
    float* rotated = scratch.At<float>(rotated_at);
    if (absl::Status s = Check(
            internal::LaunchRotate(upload.Plan(scratch), device_data, rotated,
                                   upload.MixBuffer(scratch), *n / shape.back(), false, Stream()),
            "rotation");
        !s.ok()) {
      return s;
    }
    input = rotated;
  }
  if (absl::Status s =
          Check(internal::LaunchQuantize(input, *n, encoding.group_size, QuantMax(encoding.dtype),
                                         scratch.At<float>(scales_at), scratch.At<void>(payload_at),
                                         error, Stream()),
                "quantization");
      !s.ok()) {
    return s;
  }
  out->format_version = kFormatVersion;
  out->shape = shape;
  out->encoding = encoding;
  out->scales.resize(groups * sizeof(float));
  out->payload.resize(payload_bytes);
  uint32_t failed = 0;
  // Each step of such a list is taken, in order; after a failure the later ones fail too,
  // and the first error is the one reported.
  for (absl::Status s :
       {Copy(out->scales.data(), scratch.At<void>(scales_at), out->scales.size(),
             cudaMemcpyDeviceToHost, "copy of the scales"),
        Copy(out->payload.data(), scratch.At<void>(payload_at), payload_bytes,
             cudaMemcpyDeviceToHost, "copy of the payload"),
        Copy(&failed, error, sizeof(failed), cudaMemcpyDeviceToHost, "copy of the status"),
        Synchronize()}) {
    if (!s.ok()) return s;
  }
  if (failed != 0) {
    // A value the codec refuses: the CPU codec names it (the failure path only).
    Packet cpu;
    absl::Status s = EncodeViaHost(device_data, *n, shape, encoding, &cpu);
    if (!s.ok()) return s;
    return absl::InternalError(
        absl::StrCat("device codec refused a tensor the CPU codec encodes as ",
                     EncodingName(encoding), " (please report this)"));
  }
  out->checksum = ComputeChecksum(*out);
  return absl::OkStatus();
}

absl::Status DecodeToDevice(const Packet& packet, float* device_out, size_t count,
                            const DecodeLimits& limits) {
  if (absl::Status s = CheckDevice(); !s.ok()) return s;
  if (absl::Status s = ValidatePacket(packet, limits); !s.ok()) return s;
  const size_t n = NumElements(packet.shape);
  if (count != n) {
    return absl::InvalidArgumentError(
        absl::StrCat("decode buffer holds ", count, " floats, packet has ", n));
  }
  const Encoding& e = packet.encoding;
  if (!IsQuantized(e.dtype)) {
    std::vector<float> host(n);
    if (absl::Status s = DecodeInto(packet, absl::MakeSpan(host), limits); !s.ok()) return s;
    if (absl::Status s = Copy(device_out, host.data(), n * sizeof(float), cudaMemcpyHostToDevice,
                              "copy to the device");
        !s.ok()) {
      return s;
    }
    return Synchronize();
  }
  std::optional<Rotation> rotation;
  if (IsRotated(e.rotation)) {
    absl::StatusOr<Rotation> r = Rotation::Create(packet.shape.back(), e.rotation_seed, e.rotation);
    if (!r.ok()) return r.status();
    rotation.emplace(*std::move(r));
  }
  Scratch scratch;
  const size_t scales_at = scratch.Reserve(packet.scales.size());
  const size_t payload_at = scratch.Reserve(packet.payload.size());
  const size_t error_at = scratch.Reserve(sizeof(uint32_t));
  RotationUpload upload;
  if (rotation) {
    upload.rotation = &*rotation;
    upload.Reserve(scratch, n);
  }
  if (absl::Status s = scratch.Allocate(); !s.ok()) return s;
  uint32_t* error = scratch.At<uint32_t>(error_at);
  for (absl::Status s :
       {Check(cudaMemsetAsync(error, 0, sizeof(uint32_t), cudaStreamPerThread), "memset"),
        Copy(scratch.At<void>(scales_at), packet.scales.data(), packet.scales.size(),
             cudaMemcpyHostToDevice, "copy of the scales"),
        Copy(scratch.At<void>(payload_at), packet.payload.data(), packet.payload.size(),
             cudaMemcpyHostToDevice, "copy of the payload"),
        Check(internal::LaunchDequantize(scratch.At<void>(payload_at), scratch.At<float>(scales_at),
                                         n, e.group_size, QuantMax(e.dtype), device_out, Stream()),
              "dequantization")}) {
    if (!s.ok()) return s;
  }
  if (!rotation) return Synchronize();
  uint32_t overflow = 0;
  for (absl::Status s :
       {upload.Upload(scratch),
        Check(internal::LaunchRotate(upload.Plan(scratch), device_out, device_out,
                                     upload.MixBuffer(scratch), n / packet.shape.back(),
                                     /*inverse=*/true, Stream()),
              "inverse rotation"),
        // Finite payloads can still overflow inside the inverse transform.
        Check(internal::LaunchCheckFinite(device_out, n, error, Stream()), "finiteness check"),
        Copy(&overflow, error, sizeof(overflow), cudaMemcpyDeviceToHost, "copy of the status"),
        Synchronize()}) {
    if (!s.ok()) return s;
  }
  if (overflow != 0) {
    return absl::InvalidArgumentError(
        "latent packet: values overflow to infinity in the inverse rotation");
  }
  return absl::OkStatus();
}

}  // namespace latentbus::codec::cuda
