#include "agent/llm/safetensors_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "codec/half.h"
#include "nlohmann/json.hpp"

namespace latentbus::agent::llm {
namespace {

size_t DtypeBytes(const std::string& dtype) {
  if (dtype == "F64" || dtype == "I64" || dtype == "U64") return 8;
  if (dtype == "F32" || dtype == "I32" || dtype == "U32") return 4;
  if (dtype == "F16" || dtype == "BF16" || dtype == "I16" || dtype == "U16") return 2;
  if (dtype == "I8" || dtype == "U8" || dtype == "BOOL" || dtype == "F8_E4M3" ||
      dtype == "F8_E5M2") {
    return 1;
  }
  return 0;
}

constexpr uint64_t kMaxHeaderBytes = 100u << 20;  // the format's own limit is 100 MB

}  // namespace

SafetensorsFile::~SafetensorsFile() {
  if (base_ != nullptr) munmap(const_cast<uint8_t*>(base_), size_);
}

absl::StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Open(const std::string& path) {
  std::unique_ptr<SafetensorsFile> f(new SafetensorsFile());
  f->path_ = path;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const std::string msg = absl::StrCat(path, ": ", std::strerror(errno));
    return errno == ENOENT ? absl::NotFoundError(msg) : absl::PermissionDeniedError(msg);
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size < 8) {
    ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat(path, ": too short for a safetensors file"));
  }
  f->size_ = static_cast<size_t>(st.st_size);
  void* map = mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return absl::InternalError(absl::StrCat(path, ": mmap failed"));
  f->base_ = static_cast<const uint8_t*>(map);

  uint64_t header_len;
  std::memcpy(&header_len, f->base_, 8);
  if (header_len > kMaxHeaderBytes || header_len > f->size_ - 8) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": header length ", header_len,
                                                   " exceeds the file (", f->size_, " bytes)"));
  }
  const nlohmann::json header =
      nlohmann::json::parse(reinterpret_cast<const char*>(f->base_ + 8),
                            reinterpret_cast<const char*>(f->base_ + 8 + header_len), nullptr,
                            /*allow_exceptions=*/false);
  if (!header.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": header is not a JSON object"));
  }
  const uint8_t* data = f->base_ + 8 + header_len;
  const size_t data_size = f->size_ - 8 - header_len;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") continue;
    auto bad = [&](const std::string& why) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": tensor ", name, ": ", why));
    };
    if (!entry.is_object() || !entry.contains("dtype") || !entry["dtype"].is_string() ||
        !entry.contains("shape") || !entry["shape"].is_array() || !entry.contains("data_offsets") ||
        !entry["data_offsets"].is_array() || entry["data_offsets"].size() != 2) {
      return bad("needs dtype, shape and data_offsets [begin, end]");
    }
    SafetensorsTensor t;
    t.name = name;
    t.dtype = entry["dtype"].get<std::string>();
    const size_t elem = DtypeBytes(t.dtype);
    if (elem == 0) return bad(absl::StrCat("unknown dtype ", t.dtype));
    t.num_elements = 1;
    for (const auto& d : entry["shape"]) {
      if (!d.is_number_unsigned()) return bad("shape must hold non-negative integers");
      const uint64_t v = d.get<uint64_t>();
      if (v != 0 && t.num_elements > data_size / v) return bad("shape larger than the file");
      t.num_elements *= v;
      t.shape.push_back(static_cast<int64_t>(v));
    }
    const auto& off = entry["data_offsets"];
    if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned()) {
      return bad("data_offsets must be non-negative integers");
    }
    const uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    if (begin > end || end > data_size) {
      return bad(absl::StrCat("data [", begin, ", ", end, ") outside the data section of ",
                              data_size, " bytes"));
    }
    t.num_bytes = end - begin;
    if (t.num_bytes != t.num_elements * elem) {
      return bad(
          absl::StrCat(t.num_bytes, " bytes for ", t.num_elements, " ", t.dtype, " elements"));
    }
    t.data = data + begin;
    f->index_[t.name] = f->tensors_.size();
    f->tensors_.push_back(std::move(t));
  }
  return f;
}

const SafetensorsTensor* SafetensorsFile::Find(absl::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

absl::Status SafetensorsFile::ToFloat(const SafetensorsTensor& t, float* out) {
  const size_t n = t.num_elements;
  if (t.dtype == "F32") {
    std::memcpy(out, t.data, n * sizeof(float));
  } else if (t.dtype == "F16" || t.dtype == "BF16") {
    const bool half = t.dtype == "F16";
    for (size_t i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, t.data + 2 * i, 2);
      out[i] = half ? codec::HalfToFloat(h) : codec::Bf16ToFloat(h);
    }
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor ", t.name, ": dtype ", t.dtype, " is not a float type"));
  }
  return absl::OkStatus();
}

}  // namespace latentbus::agent::llm
