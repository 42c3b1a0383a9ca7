#include "bridge/safetensors_io.h"

#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace latentbus::bridge {
namespace {

int64_t DtypeSize(const std::string& dtype) {
  if (dtype == "F32" || dtype == "I32") return 4;
  if (dtype == "BF16") return 2;
  if (dtype == "I64") return 8;
  return 0;
}

size_t Product(const std::vector<int64_t>& shape) {
  size_t n = 1;
  for (int64_t d : shape) n *= static_cast<size_t>(d);
  return n;
}

template <typename T>
absl::Status CopyAs(const StoredTensor& t, const char* dtype, std::vector<T>* out) {
  if (t.dtype != dtype) {
    return absl::InvalidArgumentError(absl::StrCat("tensor dtype ", t.dtype, ", expected ", dtype));
  }
  out->resize(t.bytes.size() / sizeof(T));
  if (!t.bytes.empty()) std::memcpy(out->data(), t.bytes.data(), t.bytes.size());
  return absl::OkStatus();
}

}  // namespace

size_t StoredTensor::NumElements() const { return Product(shape); }
absl::Status StoredTensor::CopyFloats(std::vector<float>* out) const {
  if (dtype != "BF16") return CopyAs(*this, "F32", out);
  out->resize(bytes.size() / 2);
  for (size_t i = 0; i < out->size(); ++i) {
    const uint32_t bits = (uint32_t{bytes[2 * i + 1]} << 24) | (uint32_t{bytes[2 * i]} << 16);
    std::memcpy(&(*out)[i], &bits, 4);
  }
  return absl::OkStatus();
}

static std::vector<uint16_t> ToBf16(const float* data, size_t n) {
  std::vector<uint16_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, &data[i], 4);
    if ((bits & 0x7fffffffu) > 0x7f800000u) {
      out[i] = static_cast<uint16_t>((bits >> 16) | 0x40);  // NaN stays NaN
    } else {
      bits += 0x7fffu + ((bits >> 16) & 1u);  // round to nearest, ties to even
      out[i] = static_cast<uint16_t>(bits >> 16);
    }
  }
  return out;
}
absl::Status StoredTensor::CopyInt32(std::vector<int32_t>* out) const {
  return CopyAs(*this, "I32", out);
}
absl::Status StoredTensor::CopyInt64(std::vector<int64_t>* out) const {
  return CopyAs(*this, "I64", out);
}

absl::Status WriteSafetensors(const std::string& path,
                              const std::map<std::string, std::string>& metadata,
                              const std::vector<TensorView>& tensors) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  std::vector<uint64_t> sizes;
  std::vector<const void*> data;
  std::vector<std::vector<uint16_t>> narrowed;  // BF16 views: the rounded copies
  narrowed.reserve(tensors.size());
  for (const TensorView& t : tensors) {
    const int64_t esize = DtypeSize(t.dtype);
    if (esize == 0) return absl::InvalidArgumentError(absl::StrCat("unsupported dtype ", t.dtype));
    const uint64_t bytes = Product(t.shape) * static_cast<uint64_t>(esize);
    if (bytes > 0 && t.data == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("tensor ", t.name, " has no data"));
    }
    header[t.name] = {
        {"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    sizes.push_back(bytes);
    if (t.dtype == "BF16" && bytes > 0) {
      narrowed.push_back(ToBf16(static_cast<const float*>(t.data), Product(t.shape)));
      data.push_back(narrowed.back().data());
    } else {
      data.push_back(t.data);
    }
  }
  std::string text = header.dump();
  while (text.size() % 8 != 0) text.push_back(' ');
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return absl::InternalError(absl::StrCat("cannot open ", path, " for writing"));
  const uint64_t n = text.size();
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(n >> (8 * i));
  out.write(reinterpret_cast<const char*>(len), 8);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  for (size_t i = 0; i < tensors.size(); ++i) {
    out.write(static_cast<const char*>(data[i]), static_cast<std::streamsize>(sizes[i]));
  }
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("write failed: ", path));
  return absl::OkStatus();
}

absl::StatusOr<SafetensorsContents> ReadSafetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  const uint64_t file_size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  if (file_size < 8) return absl::DataLossError(absl::StrCat(path, ": too short"));
  uint8_t len[8];
  in.read(reinterpret_cast<char*>(len), 8);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(len[i]) << (8 * i);
  if (n > file_size - 8)
    return absl::DataLossError(absl::StrCat(path, ": header size out of range"));
  std::string text(n, '\0');
  in.read(text.data(), static_cast<std::streamsize>(n));
  const uint64_t data_size = file_size - 8 - n;
  nlohmann::json header = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object()) {
    return absl::DataLossError(absl::StrCat(path, ": header is not a JSON object"));
  }
  SafetensorsContents contents;
  try {
    for (auto it = header.begin(); it != header.end(); ++it) {
      if (it.key() == "__metadata__") {
        for (auto m = it->begin(); m != it->end(); ++m) {
          contents.metadata[m.key()] = m->get<std::string>();
        }
        continue;
      }
      StoredTensor t;
      t.dtype = it->at("dtype").get<std::string>();
      t.shape = it->at("shape").get<std::vector<int64_t>>();
      const auto offsets = it->at("data_offsets").get<std::vector<uint64_t>>();
      const int64_t esize = DtypeSize(t.dtype);
      if (esize == 0)
        return absl::DataLossError(absl::StrCat(path, ": unsupported dtype ", t.dtype));
      for (int64_t d : t.shape) {
        if (d < 0) return absl::DataLossError(absl::StrCat(path, ": negative dimension"));
      }
      if (offsets.size() != 2 || offsets[0] > offsets[1] || offsets[1] > data_size ||
          offsets[1] - offsets[0] != Product(t.shape) * static_cast<uint64_t>(esize)) {
        return absl::DataLossError(absl::StrCat(path, ": bad data_offsets for ", it.key()));
      }
      t.bytes.resize(offsets[1] - offsets[0]);
      in.seekg(static_cast<std::streamoff>(8 + n + offsets[0]));
      in.read(reinterpret_cast<char*>(t.bytes.data()),
              static_cast<std::streamsize>(t.bytes.size()));
      if (!in) return absl::DataLossError(absl::StrCat(path, ": short read"));
      contents.tensors.emplace(it.key(), std::move(t));
    }
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(absl::StrCat(path, ": malformed header: ", e.what()));
  }
  return contents;
}

}  // namespace latentbus::bridge
