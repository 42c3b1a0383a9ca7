#include "codec/tensor.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace latentbus::codec {

size_t NumElements(const std::vector<uint32_t>& shape) {
  size_t n = 1;
  for (uint32_t d : shape) n *= d;
  return n;
}

std::string ShapeString(const std::vector<uint32_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ","), "]");
}

}  // namespace latentbus::codec
