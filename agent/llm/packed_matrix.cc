#include "agent/llm/packed_matrix.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "agent/llm/packed_kernel_variants.h"

namespace latentbus::agent::llm {
namespace {

using gguf::GgmlType;

float Half(const uint8_t* p) {
  float f = 0;
  (void)gguf::Dequantize(GgmlType::kF16, p, 1, &f);  // exact; cannot fail for one element
  return f;
}

uint32_t U32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// Each writer takes one GGUF block and appends its groups at q / scale (/ min).
void Q8_0(const uint8_t* b, int8_t* q, float* scale) {
  scale[0] = Half(b);
  std::memcpy(q, b + 2, 32);
}

void Q5_0(const uint8_t* b, int8_t* q, float* scale) {
  scale[0] = Half(b);
  const uint32_t qh = U32(b + 2);
  const uint8_t* qs = b + 6;
  for (int j = 0; j < 16; ++j) {
    q[j] = static_cast<int8_t>(((qs[j] & 0x0f) | (((qh >> j) & 1u) << 4)) - 16);
    q[j + 16] = static_cast<int8_t>(((qs[j] >> 4) | (((qh >> (j + 16)) & 1u) << 4)) - 16);
  }
}

// Q6_K: 16 groups of 16; see gguf's dequantizer for the bit layout.
void Q6_K(const uint8_t* b, int8_t* q, float* scale) {
  const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192);
  const float d = Half(b + 208);
  for (int g = 0; g < 16; ++g) scale[g] = d * static_cast<float>(sc[g]);
  for (int h = 0; h < 2; ++h, q += 128) {
    const uint8_t* ql = b + 64 * h;
    const uint8_t* qh = b + 128 + 32 * h;
    for (int l = 0; l < 32; ++l) {
      q[l] = static_cast<int8_t>(((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32);
      q[l + 32] = static_cast<int8_t>(((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32);
      q[l + 64] = static_cast<int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
      q[l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
    }
  }
}

void Q4_1(const uint8_t* b, uint8_t* q, float* scale, float* min) {
  scale[0] = Half(b);
  min[0] = Half(b + 2);
  std::memcpy(q, b + 4, 16);  // the same nibble order as ours
}

// Q4_K: eight groups of 32; element 64c + l is the low nibble of qs[32c + l], element
// 64c + 32 + l its high nibble.
void Q4_K(const uint8_t* b, uint8_t* q, float* scale, float* min) {
  const float d = Half(b), dmin = Half(b + 2);
  int sc[8], mn[8];
  gguf::UnpackKScaleMin(b + 4, sc, mn);
  const uint8_t* qs = b + 16;
  for (int g = 0; g < 8; ++g) {
    scale[g] = d * static_cast<float>(sc[g]);
    min[g] = -(dmin * static_cast<float>(mn[g]));
    const uint8_t* src = qs + 32 * (g / 2);
    const int shift = (g % 2) * 4;
    for (int j = 0; j < 16; ++j) {
      const uint8_t lo = (src[j] >> shift) & 0x0f, hi = (src[j + 16] >> shift) & 0x0f;
      q[16 * g + j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

}  // namespace

bool PackedMatrix::CanPack(GgmlType type) {
  switch (type) {
    case GgmlType::kQ8_0:
    case GgmlType::kQ5_0:
    case GgmlType::kQ6_K:
    case GgmlType::kQ4_1:
    case GgmlType::kQ4_K:
    case GgmlType::kF16:
    case GgmlType::kBF16:
      return true;
    default:
      return false;
  }
}

absl::StatusOr<PackedMatrix> PackedMatrix::FromHalf(PackedLayout layout, const uint8_t* data,
                                                    size_t rows, size_t cols) {
  if (!IsHalfLayout(layout)) return absl::InvalidArgumentError("not a 16-bit float layout");
  if (!CanPackHalf(cols)) {
    return absl::InvalidArgumentError(
        absl::StrCat(cols, " columns: 16-bit weights stay packed in rows of 32k columns"));
  }
  PackedMatrix m;
  m.layout_ = layout;
  m.rows_ = rows;
  m.cols_ = cols;
  m.h16_.resize(rows * cols);
  std::memcpy(m.h16_.data(), data, rows * cols * sizeof(uint16_t));  // little-endian hosts
  return m;
}

absl::StatusOr<PackedMatrix> PackedMatrix::FromGguf(GgmlType type, const uint8_t* data, size_t rows,
                                                    size_t cols) {
  if (!CanPack(type)) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot keep ", gguf::TypeName(type), " weights packed"));
  }
  if (type == GgmlType::kF16 || type == GgmlType::kBF16) {
    return FromHalf(type == GgmlType::kF16 ? PackedLayout::kF16 : PackedLayout::kBF16, data, rows,
                    cols);
  }
  const size_t block = gguf::BlockElements(type), block_bytes = gguf::BlockBytes(type);
  if (cols == 0 || cols % block != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(cols, " columns are not whole ", gguf::TypeName(type), " blocks"));
  }
  PackedMatrix m;
  m.rows_ = rows;
  m.cols_ = cols;
  m.layout_ = (type == GgmlType::kQ4_1 || type == GgmlType::kQ4_K) ? Layout::kInt4 : Layout::kInt8;
  m.group_ = type == GgmlType::kQ6_K ? 16 : 32;
  const size_t blocks = rows * cols / block, groups_per_block = block / m.group_;
  m.scales_.resize(rows * cols / m.group_);
  if (m.layout_ == Layout::kInt8) {
    m.q8_.resize(rows * cols);
  } else {
    m.q4_.resize(rows * cols / 2);
    m.mins_.resize(m.scales_.size());
  }
  for (size_t i = 0; i < blocks; ++i) {
    const uint8_t* b = data + i * block_bytes;
    float* scale = m.scales_.data() + i * groups_per_block;
    switch (type) {
      case GgmlType::kQ8_0:
        Q8_0(b, m.q8_.data() + i * block, scale);
        break;
      case GgmlType::kQ5_0:
        Q5_0(b, m.q8_.data() + i * block, scale);
        break;
      case GgmlType::kQ6_K:
        Q6_K(b, m.q8_.data() + i * block, scale);
        break;
      case GgmlType::kQ4_1:
        Q4_1(b, m.q4_.data() + i * block / 2, scale, m.mins_.data() + i * groups_per_block);
        break;
      case GgmlType::kQ4_K:
        Q4_K(b, m.q4_.data() + i * block / 2, scale, m.mins_.data() + i * groups_per_block);
        break;
      default:
        break;
    }
  }
  return m;
}

size_t PackedMatrix::bytes() const {
  return q8_.size() + q4_.size() + (scales_.size() + mins_.size()) * sizeof(float) +
         h16_.size() * sizeof(uint16_t);
}

PackedView PackedMatrix::view() const {
  PackedView v;
  v.layout = layout_;
  v.rows = rows_;
  v.cols = cols_;
  v.group = group_;
  v.q8 = q8_.data();
  v.q4 = q4_.data();
  v.scales = scales_.data();
  v.mins = mins_.data();
  v.h16 = h16_.data();
  return v;
}

void PackedMatrix::DequantizeRows(size_t begin, size_t end, float* out) const {
  ScalarPackedKernels().dequantize(view(), begin, end, out);
}

}  // namespace latentbus::agent::llm
