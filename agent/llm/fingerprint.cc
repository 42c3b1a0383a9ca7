#include "agent/llm/fingerprint.h"

#include <cctype>

#include "absl/strings/str_cat.h"
#include "codec/checksum.h"

namespace latentbus::agent::llm {

std::string GgufFingerprint(const gguf::GgufFile& file) {
  std::string canon;
  auto field = [&](absl::string_view s) { absl::StrAppend(&canon, s.size(), ":", s, ";"); };
  for (const auto& [key, v] : file.metadata()) {
    field(key);
    absl::StrAppend(&canon, static_cast<uint32_t>(v.type), "/", static_cast<uint32_t>(v.array_type),
                    "/", v.i, "/", v.f, ";");
    field(v.s);
    for (int64_t x : v.ints) absl::StrAppend(&canon, x, ",");
    for (double x : v.floats) absl::StrAppend(&canon, x, ",");
    for (const std::string& s : v.strings) field(s);
  }
  for (const gguf::TensorInfo& t : file.tensors()) {
    field(t.name);
    absl::StrAppend(&canon, static_cast<uint32_t>(t.type), "@", t.offset, "[");
    for (int64_t d : t.dims) absl::StrAppend(&canon, d, ",");
    absl::StrAppend(&canon, "];");
  }
  return absl::StrCat(absl::Hex(codec::Xxh3({canon}), absl::kZeroPad16));
}

std::string SafetensorsFingerprint(const std::string& config_json,
                                   const std::vector<std::unique_ptr<SafetensorsFile>>& shards) {
  std::string canon = absl::StrCat(config_json.size(), ":", config_json, ";");
  for (const auto& shard : shards) {
    for (const SafetensorsTensor& t : shard->tensors()) {
      absl::StrAppend(&canon, t.name.size(), ":", t.name, ";", t.dtype, "[");
      for (int64_t d : t.shape) absl::StrAppend(&canon, d, ",");
      absl::StrAppend(&canon, "]", t.data - shard->tensors().front().data, "+", t.num_bytes, ";");
    }
  }
  return absl::StrCat(absl::Hex(codec::Xxh3({canon}), absl::kZeroPad16));
}

std::string ModelIdFromPath(const std::string& path) {
  std::string name =
      path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  for (const char* ext : {".gguf", ".safetensors"}) {
    const std::string e(ext);
    if (name.size() > e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0) {
      name.resize(name.size() - e.size());
    }
  }
  for (char& c : name) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (c == '.' || c == ' ') c = '-';
  }
  return name;
}

}  // namespace latentbus::agent::llm
