#include "codec/encoding.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace latentbus::codec {

Encoding DefaultEncoding() { return Encoding{}; }

bool IsQuantized(DType dtype) { return dtype == DType::kInt8 || dtype == DType::kInt4; }

absl::Status ValidateEncoding(const Encoding& encoding) {
  switch (encoding.dtype) {
    case DType::kFp32:
    case DType::kFp16:
    case DType::kBf16:
      if (encoding.group_size != 0) {
        return absl::InvalidArgumentError(absl::StrCat("encoding ", DTypeName(encoding.dtype),
                                                       " takes no group size, got ",
                                                       encoding.group_size));
      }
      break;
    case DType::kInt8:
    case DType::kInt4:
      if (encoding.group_size != 32 && encoding.group_size != 64 && encoding.group_size != 128) {
        return absl::InvalidArgumentError(
            absl::StrCat("group size must be 32, 64 or 128, got ", encoding.group_size));
      }
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("unknown dtype ", static_cast<uint32_t>(encoding.dtype)));
  }
  if (encoding.rotation != RotationKind::kNone && encoding.rotation != RotationKind::kHadamard &&
      encoding.rotation != RotationKind::kHadamard64) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown rotation ", static_cast<uint32_t>(encoding.rotation)));
  }
  return absl::OkStatus();
}

size_t NumGroups(const Encoding& encoding, size_t num_elements) {
  if (!IsQuantized(encoding.dtype) || encoding.group_size == 0) return 0;
  return (num_elements + encoding.group_size - 1) / encoding.group_size;
}

size_t PayloadBytes(const Encoding& encoding, size_t num_elements) {
  switch (encoding.dtype) {
    case DType::kFp32:
      return num_elements * 4;
    case DType::kFp16:
    case DType::kBf16:
      return num_elements * 2;
    case DType::kInt8:
      return num_elements;
    case DType::kInt4:
      return (num_elements + 1) / 2;
  }
  return 0;
}

const char* DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kFp32:
      return "fp32";
    case DType::kFp16:
      return "fp16";
    case DType::kBf16:
      return "bf16";
    case DType::kInt8:
      return "int8";
    case DType::kInt4:
      return "int4";
  }
  return "unknown";
}

std::string EncodingName(const Encoding& encoding) {
  std::string name = DTypeName(encoding.dtype);
  if (IsQuantized(encoding.dtype)) absl::StrAppend(&name, "/g", encoding.group_size);
  if (IsRotated(encoding.rotation)) {
    absl::StrAppend(&name, encoding.rotation == RotationKind::kHadamard64 ? "+rot64" : "+rot");
    if (encoding.rotation_seed != kDefaultRotationSeed) {
      absl::StrAppend(&name, ":", encoding.rotation_seed);
    }
  }
  return name;
}

namespace {

// ASCII decimal digits only, as the Python SDK reads them (SimpleAtoi alone also takes
// surrounding spaces and a sign).
template <typename T>
bool ParseDigits(absl::string_view text, T* out) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return absl::SimpleAtoi(text, out);
}

}  // namespace

absl::StatusOr<Encoding> ParseEncoding(absl::string_view text) {
  const absl::string_view original = text;
  Encoding encoding;
  encoding.rotation = RotationKind::kNone;
  const size_t plus = text.find('+');
  if (plus != absl::string_view::npos) {
    absl::string_view rot = text.substr(plus + 1);
    text = text.substr(0, plus);
    encoding.rotation_seed = kDefaultRotationSeed;
    const absl::string_view kind = rot.substr(0, rot.find(':'));
    if (kind == "rot") {
      encoding.rotation = RotationKind::kHadamard;
    } else if (kind == "rot64") {
      encoding.rotation = RotationKind::kHadamard64;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "bad rotation in '", original, "': expected +rot, +rot64, +rot:SEED or +rot64:SEED"));
    }
    rot.remove_prefix(kind.size());
    if (absl::ConsumePrefix(&rot, ":") && !ParseDigits(rot, &encoding.rotation_seed)) {
      return absl::InvalidArgumentError(absl::StrCat("bad rotation seed in '", original, "'"));
    }
  }
  absl::string_view dtype = text;
  absl::string_view group;
  const size_t slash = text.find('/');
  if (slash != absl::string_view::npos) {
    dtype = text.substr(0, slash);
    group = text.substr(slash + 1);
  }
  if (dtype == "fp32") {
    encoding.dtype = DType::kFp32;
  } else if (dtype == "fp16") {
    encoding.dtype = DType::kFp16;
  } else if (dtype == "bf16") {
    encoding.dtype = DType::kBf16;
  } else if (dtype == "int8") {
    encoding.dtype = DType::kInt8;
  } else if (dtype == "int4") {
    encoding.dtype = DType::kInt4;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown encoding '", original, "': expected fp32, fp16, bf16, int8[/gN] or int4[/gN]"));
  }
  encoding.group_size = IsQuantized(encoding.dtype) ? 32 : 0;
  if (!group.empty()) {
    if (!absl::ConsumePrefix(&group, "g") || !ParseDigits(group, &encoding.group_size)) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad group size in '", original, "': expected /g32, /g64 or /g128"));
    }
  }
  if (absl::Status s = ValidateEncoding(encoding); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("encoding '", original, "': ", s.message()));
  }
  return encoding;
}

}  // namespace latentbus::codec
