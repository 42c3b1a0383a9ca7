#include "agent/gguf/gguf_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"

namespace latentbus::agent::gguf {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "GGUF is read in place as little-endian; big-endian hosts need byte swaps");

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr size_t kHeaderBytes = 4 + 4 + 8 + 8;
constexpr size_t kDefaultAlignment = 32;
constexpr uint64_t kMaxAlignment = uint64_t{1} << 30;
constexpr uint32_t kMaxDims = 4;
constexpr uint64_t kMaxInt64 = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
// Smallest possible encodings, used to refuse counts that cannot fit before allocating.
constexpr size_t kMinKvBytes = 8 + 4 + 1;                  // empty key, type, one-byte value
constexpr size_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // empty name, one dim

const char* ValueTypeName(ValueType t) {
  switch (t) {
    case ValueType::kU8:
      return "u8";
    case ValueType::kI8:
      return "i8";
    case ValueType::kU16:
      return "u16";
    case ValueType::kI16:
      return "i16";
    case ValueType::kU32:
      return "u32";
    case ValueType::kI32:
      return "i32";
    case ValueType::kF32:
      return "f32";
    case ValueType::kBool:
      return "bool";
    case ValueType::kString:
      return "string";
    case ValueType::kArray:
      return "array";
    case ValueType::kU64:
      return "u64";
    case ValueType::kI64:
      return "i64";
    case ValueType::kF64:
      return "f64";
  }
  return "unknown";
}

bool IsIntegerType(ValueType t) {
  switch (t) {
    case ValueType::kU8:
    case ValueType::kI8:
    case ValueType::kU16:
    case ValueType::kI16:
    case ValueType::kU32:
    case ValueType::kI32:
    case ValueType::kU64:
    case ValueType::kI64:
      return true;
    default:
      return false;
  }
}

// Encoded size of a scalar or string value (for a string: of its length prefix, the
// smallest it can be); 0 for an array.
size_t MinEncodedBytes(ValueType t) {
  switch (t) {
    case ValueType::kU8:
    case ValueType::kI8:
    case ValueType::kBool:
      return 1;
    case ValueType::kU16:
    case ValueType::kI16:
      return 2;
    case ValueType::kU32:
    case ValueType::kI32:
    case ValueType::kF32:
      return 4;
    case ValueType::kU64:
    case ValueType::kI64:
    case ValueType::kF64:
    case ValueType::kString:
      return 8;
    case ValueType::kArray:
      return 0;
  }
  return 0;
}

// A bounds-checked little-endian cursor over [data, data + size). A failed read records
// an InvalidArgument status naming what was being read and where; callers return
// status() on the first false and never read again.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  size_t pos() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }
  const absl::Status& status() const { return status_; }

  bool Fail(absl::string_view message) {
    status_ = absl::InvalidArgumentError(message);
    return false;
  }

  // `what_suffix` completes `what` in the message (saves building strings per read).
  template <typename T>
  bool Read(absl::string_view what, T* out, absl::string_view what_suffix = "") {
    if (remaining() < sizeof(T)) {
      return Fail(absl::StrCat("truncated: ", what, what_suffix, " needs ", sizeof(T),
                               " bytes at offset ", pos_, " but the file ends at ", size_));
    }
    std::memcpy(out, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }

  bool ReadString(absl::string_view what, std::string* out) {
    const size_t at = pos_;
    uint64_t len = 0;
    if (!Read(what, &len, " length")) return false;
    if (len > remaining()) {
      return Fail(absl::StrCat(what, " at offset ", at, " claims ", len, " bytes but only ",
                               remaining(), " remain in the file"));
    }
    out->assign(reinterpret_cast<const char*>(data_ + pos_), static_cast<size_t>(len));
    pos_ += static_cast<size_t>(len);
    return true;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  absl::Status status_;
};

// Reads one scalar or string of type `t` into `out` (widened as Value documents) or,
// with `element` set, appends it to the matching array vector.
bool ReadScalar(Reader& r, ValueType t, absl::string_view what, Value* out, bool element) {
  int64_t i = 0;
  double f = 0.0;
  bool is_float = false;
  switch (t) {
    case ValueType::kU8: {
      uint8_t v;
      if (!r.Read(what, &v)) return false;
      i = v;
      break;
    }
    case ValueType::kI8: {
      int8_t v;
      if (!r.Read(what, &v)) return false;
      i = v;
      break;
    }
    case ValueType::kU16: {
      uint16_t v;
      if (!r.Read(what, &v)) return false;
      i = v;
      break;
    }
    case ValueType::kI16: {
      int16_t v;
      if (!r.Read(what, &v)) return false;
      i = v;
      break;
    }
    case ValueType::kU32: {
      uint32_t v;
      if (!r.Read(what, &v)) return false;
      i = v;
      break;
    }
    case ValueType::kI32: {
      int32_t v;
      if (!r.Read(what, &v)) return false;
      i = v;
      break;
    }
    case ValueType::kU64: {
      uint64_t v;
      if (!r.Read(what, &v)) return false;
      if (v > kMaxInt64) {
        return r.Fail(absl::StrCat(what, " is u64 ", v, ", above the supported 2^63 - 1"));
      }
      i = static_cast<int64_t>(v);
      break;
    }
    case ValueType::kI64: {
      int64_t v;
      if (!r.Read(what, &v)) return false;
      i = v;
      break;
    }
    case ValueType::kBool: {
      uint8_t v;
      if (!r.Read(what, &v)) return false;
      if (v > 1)
        return r.Fail(absl::StrCat(what, " is a bool with byte value ", static_cast<int>(v)));
      i = v;
      break;
    }
    case ValueType::kF32: {
      float v;
      if (!r.Read(what, &v)) return false;
      f = v;
      is_float = true;
      break;
    }
    case ValueType::kF64: {
      if (!r.Read(what, &f)) return false;
      is_float = true;
      break;
    }
    case ValueType::kString: {
      std::string s;
      if (!r.ReadString(what, &s)) return false;
      if (element) {
        out->strings.push_back(std::move(s));
      } else {
        out->s = std::move(s);
      }
      return true;
    }
    case ValueType::kArray:
      return r.Fail(absl::StrCat(what, ": arrays of arrays are not supported"));
  }
  if (element) {
    if (is_float) {
      out->floats.push_back(f);
    } else {
      out->ints.push_back(i);
    }
  } else {
    out->i = i;
    out->f = f;
  }
  return true;
}

bool ReadValueType(Reader& r, absl::string_view what, ValueType* out) {
  const size_t at = r.pos();
  uint32_t raw = 0;
  if (!r.Read(what, &raw)) return false;
  if (raw > static_cast<uint32_t>(ValueType::kF64)) {
    return r.Fail(absl::StrCat(what, " at offset ", at, " is ", raw, ", not a GGUF value type"));
  }
  *out = static_cast<ValueType>(raw);
  return true;
}

bool ReadValue(Reader& r, const std::string& key, Value* out) {
  const std::string what = absl::StrCat("metadata '", key, "'");
  if (!ReadValueType(r, absl::StrCat(what, " value type"), &out->type)) return false;
  if (out->type != ValueType::kArray) return ReadScalar(r, out->type, what, out, false);

  if (!ReadValueType(r, absl::StrCat(what, " array element type"), &out->array_type)) {
    return false;
  }
  if (out->array_type == ValueType::kArray) {
    return r.Fail(absl::StrCat(what, ": arrays of arrays are not supported"));
  }
  uint64_t count = 0;
  if (!r.Read(absl::StrCat(what, " array count"), &count)) return false;
  const size_t min_bytes = MinEncodedBytes(out->array_type);
  if (count > r.remaining() / min_bytes) {
    return r.Fail(absl::StrCat(what, " claims ", count, " ", ValueTypeName(out->array_type),
                               " elements but only ", r.remaining(), " bytes remain"));
  }
  const size_t n = static_cast<size_t>(count);
  if (out->array_type == ValueType::kString) {
    out->strings.reserve(n);
  } else if (out->array_type == ValueType::kF32 || out->array_type == ValueType::kF64) {
    out->floats.reserve(n);
  } else {
    out->ints.reserve(n);
  }
  for (size_t k = 0; k < n; ++k) {
    // The element's name is only built on failure: arrays hold up to 10^5 strings.
    const size_t at = r.pos();
    if (!ReadScalar(r, out->array_type, "array element", out, true)) {
      return r.Fail(
          absl::StrCat(what, " element ", k, " (offset ", at, "): ", r.status().message()));
    }
  }
  return true;
}

uint64_t AlignUp(uint64_t x, uint64_t alignment) {
  return (x + alignment - 1) / alignment * alignment;
}

absl::Status WithName(const absl::Status& s, absl::string_view name) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(name, ": ", s.message()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<GgufFile>> GgufFile::Open(const std::string& path) {
  std::unique_ptr<GgufFile> file(new GgufFile());
  file->path_ = path;
  file->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (file->fd_ < 0) {
    const int err = errno;
    return absl::ErrnoToStatus(err, absl::StrCat("cannot open GGUF file ", path));
  }
  struct stat st;
  if (::fstat(file->fd_, &st) != 0) {
    const int err = errno;
    return absl::ErrnoToStatus(err, absl::StrCat("cannot stat GGUF file ", path));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a regular file"));
  }
  if (static_cast<uint64_t>(st.st_size) < kHeaderBytes) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", st.st_size,
                                                   " bytes is too small for a GGUF header (",
                                                   kHeaderBytes, " bytes)"));
  }
  if (static_cast<uint64_t>(st.st_size) > std::numeric_limits<size_t>::max()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": too large to map"));
  }
  const size_t size = static_cast<size_t>(st.st_size);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, file->fd_, 0);
  if (map == MAP_FAILED) {
    const int err = errno;
    return absl::ErrnoToStatus(err, absl::StrCat("cannot map GGUF file ", path));
  }
  file->base_ = static_cast<const uint8_t*>(map);
  file->size_ = size;
  if (absl::Status s = file->Parse(); !s.ok()) return WithName(s, path);
  return file;
}

absl::StatusOr<std::unique_ptr<GgufFile>> GgufFile::OpenFromMemory(std::string name,
                                                                   std::vector<uint8_t> bytes) {
  std::unique_ptr<GgufFile> file(new GgufFile());
  file->path_ = std::move(name);
  file->owned_ = std::move(bytes);
  file->base_ = file->owned_.data();
  file->size_ = file->owned_.size();
  if (absl::Status s = file->Parse(); !s.ok()) return WithName(s, file->path_);
  return file;
}

GgufFile::~GgufFile() {
  if (fd_ >= 0) {
    if (base_ != nullptr) ::munmap(const_cast<uint8_t*>(base_), size_);
    ::close(fd_);
  }
}

absl::Status GgufFile::Parse() {
  Reader r(base_, size_);
  uint32_t magic = 0;
  if (!r.Read("magic", &magic)) return r.status();
  if (magic != kMagic) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a GGUF file: magic is 0x", absl::Hex(magic, absl::kZeroPad8),
                     ", expected 0x", absl::Hex(kMagic), " (\"GGUF\")"));
  }
  if (!r.Read("version", &version_)) return r.status();
  if (version_ != 2 && version_ != 3) {
    if (version_ == 1) {
      return absl::InvalidArgumentError("GGUF version 1 is not supported (only 2 and 3)");
    }
    if ((version_ & 0xffff) == 0 && __builtin_bswap32(version_) <= 3) {
      return absl::InvalidArgumentError(absl::StrCat(
          "big-endian GGUF (version ", __builtin_bswap32(version_), ") is not supported"));
    }
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported GGUF version ", version_, " (supported: 2 and 3)"));
  }
  uint64_t tensor_count = 0;
  uint64_t kv_count = 0;
  if (!r.Read("tensor count", &tensor_count) || !r.Read("metadata count", &kv_count)) {
    return r.status();
  }
  if (kv_count > r.remaining() / kMinKvBytes) {
    return absl::InvalidArgumentError(absl::StrCat("metadata count ", kv_count,
                                                   " cannot fit in the ", r.remaining(),
                                                   " bytes after the header"));
  }
  if (tensor_count > r.remaining() / kMinTensorInfoBytes) {
    return absl::InvalidArgumentError(absl::StrCat("tensor count ", tensor_count,
                                                   " cannot fit in the ", r.remaining(),
                                                   " bytes after the header"));
  }

  metadata_.reserve(static_cast<size_t>(kv_count));
  for (uint64_t k = 0; k < kv_count; ++k) {
    std::string key;
    if (!r.ReadString(absl::StrCat("key of metadata entry ", k), &key)) return r.status();
    Value value;
    if (!ReadValue(r, key, &value)) return r.status();
    if (!metadata_index_.emplace(key, metadata_.size()).second) {
      return absl::InvalidArgumentError(absl::StrCat("duplicate metadata key '", key, "'"));
    }
    metadata_.emplace_back(std::move(key), std::move(value));
  }

  alignment_ = kDefaultAlignment;
  if (const Value* a = Find("general.alignment"); a != nullptr) {
    if (!IsIntegerType(a->type)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "general.alignment has type ", ValueTypeName(a->type), ", expected an unsigned integer"));
    }
    const uint64_t v = static_cast<uint64_t>(a->i);
    if (a->i <= 0 || (v & (v - 1)) != 0 || v > kMaxAlignment) {
      return absl::InvalidArgumentError(
          absl::StrCat("general.alignment ", a->i, " is not a power of two between 1 and 2^30"));
    }
    alignment_ = static_cast<size_t>(v);
  }

  tensors_.reserve(static_cast<size_t>(tensor_count));
  for (uint64_t k = 0; k < tensor_count; ++k) {
    TensorInfo t;
    if (!r.ReadString(absl::StrCat("name of tensor ", k), &t.name)) return r.status();
    const std::string what = absl::StrCat("tensor '", t.name, "'");
    uint32_t n_dims = 0;
    if (!r.Read(absl::StrCat(what, " dim count"), &n_dims)) return r.status();
    if (n_dims == 0 || n_dims > kMaxDims) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " has ", n_dims, " dims (must be 1 to ", kMaxDims, ")"));
    }
    uint64_t elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t dim = 0;
      if (!r.Read(absl::StrCat(what, " dim ", d), &dim)) return r.status();
      if (dim > kMaxInt64) {
        return absl::InvalidArgumentError(absl::StrCat(what, " dim ", d, " is ", dim));
      }
      t.dims.push_back(static_cast<int64_t>(dim));
      if (dim != 0 && elements > kMaxInt64 / dim) {
        return absl::InvalidArgumentError(
            absl::StrCat(what, ": element count overflows at dim ", d, " (", dim, ")"));
      }
      elements *= dim;
    }
    uint32_t raw_type = 0;
    if (!r.Read(absl::StrCat(what, " type"), &raw_type)) return r.status();
    if (!IsSupported(raw_type)) {
      const char* known = TypeName(static_cast<GgmlType>(raw_type));
      return absl::InvalidArgumentError(
          absl::StrCat(what, " has ggml type ", raw_type,
                       std::strcmp(known, "unknown") == 0
                           ? ", which is unknown"
                           : absl::StrCat(" (", known, "), which is not supported")));
    }
    t.type = static_cast<GgmlType>(raw_type);
    const uint64_t block = BlockElements(t.type);
    if (static_cast<uint64_t>(t.dims[0]) % block != 0) {
      return absl::InvalidArgumentError(absl::StrCat(what, " row length ", t.dims[0],
                                                     " is not a multiple of the ", TypeName(t.type),
                                                     " block size ", block));
    }
    // elements <= 2^63 and block_bytes <= 210: the division first keeps this exact, and
    // only the multiplication can overflow.
    const uint64_t blocks = elements / block;
    if (blocks > std::numeric_limits<uint64_t>::max() / BlockBytes(t.type)) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": byte size overflows"));
    }
    const uint64_t bytes = blocks * BlockBytes(t.type);
    if (!r.Read(absl::StrCat(what, " offset"), &t.offset)) return r.status();
    if (t.offset % alignment_ != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, " offset ", t.offset, " is not a multiple of the alignment ", alignment_));
    }
    if (bytes > size_ || elements > std::numeric_limits<size_t>::max()) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " needs ", bytes, " bytes, more than the whole file (", size_, ")"));
    }
    t.num_elements = static_cast<size_t>(elements);
    t.num_bytes = static_cast<size_t>(bytes);
    if (!tensor_index_.emplace(t.name, tensors_.size()).second) {
      return absl::InvalidArgumentError(absl::StrCat("duplicate tensor name '", t.name, "'"));
    }
    tensors_.push_back(std::move(t));
  }

  // The data section starts at the next multiple of the alignment. A file without
  // tensors may end before it.
  const uint64_t data_start = AlignUp(r.pos(), alignment_);
  if (!tensors_.empty() && data_start > size_) {
    return absl::InvalidArgumentError(absl::StrCat("truncated: the tensor data section starts at ",
                                                   data_start, " but the file ends at ", size_));
  }
  data_offset_ = static_cast<size_t>(data_start);
  for (TensorInfo& t : tensors_) {
    const size_t room = size_ - data_offset_;
    if (t.offset > room || t.num_bytes > room - t.offset) {
      return absl::InvalidArgumentError(
          absl::StrCat("tensor '", t.name, "' data (offset ", t.offset, ", ", t.num_bytes,
                       " bytes) lies outside the data section [", data_start, ", ", size_, ")"));
    }
    t.data = base_ + data_offset_ + static_cast<size_t>(t.offset);
  }
  return absl::OkStatus();
}

const Value* GgufFile::Find(absl::string_view key) const {
  auto it = metadata_index_.find(key);
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].second;
}

absl::StatusOr<int64_t> GgufFile::GetInt(absl::string_view key) const {
  const Value* v = Find(key);
  if (v == nullptr) {
    return absl::NotFoundError(absl::StrCat(path_, ": no metadata key '", key, "'"));
  }
  if (!IsIntegerType(v->type)) {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": metadata '", key, "' has type ",
                                                   ValueTypeName(v->type), ", not an integer"));
  }
  return v->i;
}

absl::StatusOr<double> GgufFile::GetFloat(absl::string_view key) const {
  const Value* v = Find(key);
  if (v == nullptr) {
    return absl::NotFoundError(absl::StrCat(path_, ": no metadata key '", key, "'"));
  }
  if (v->type == ValueType::kF32 || v->type == ValueType::kF64) return v->f;
  if (IsIntegerType(v->type)) return static_cast<double>(v->i);
  return absl::InvalidArgumentError(absl::StrCat(path_, ": metadata '", key, "' has type ",
                                                 ValueTypeName(v->type), ", not a number"));
}

absl::StatusOr<std::string> GgufFile::GetString(absl::string_view key) const {
  const Value* v = Find(key);
  if (v == nullptr) {
    return absl::NotFoundError(absl::StrCat(path_, ": no metadata key '", key, "'"));
  }
  if (v->type != ValueType::kString) {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": metadata '", key, "' has type ",
                                                   ValueTypeName(v->type), ", not a string"));
  }
  return v->s;
}

absl::StatusOr<bool> GgufFile::GetBool(absl::string_view key) const {
  const Value* v = Find(key);
  if (v == nullptr) {
    return absl::NotFoundError(absl::StrCat(path_, ": no metadata key '", key, "'"));
  }
  if (v->type != ValueType::kBool) {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": metadata '", key, "' has type ",
                                                   ValueTypeName(v->type), ", not a bool"));
  }
  return v->i != 0;
}

absl::StatusOr<int64_t> GgufFile::GetIntOr(absl::string_view key, int64_t fallback) const {
  if (Find(key) == nullptr) return fallback;
  return GetInt(key);
}

absl::StatusOr<double> GgufFile::GetFloatOr(absl::string_view key, double fallback) const {
  if (Find(key) == nullptr) return fallback;
  return GetFloat(key);
}

absl::StatusOr<const TensorInfo*> GgufFile::FindTensor(absl::string_view name) const {
  auto it = tensor_index_.find(name);
  if (it == tensor_index_.end()) {
    return absl::NotFoundError(absl::StrCat(path_, ": no tensor '", name, "'"));
  }
  return &tensors_[it->second];
}

}  // namespace latentbus::agent::gguf
