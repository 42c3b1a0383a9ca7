// A dense float tensor (row-major) as the codec sees it.
#ifndef LATENTBUS_CODEC_TENSOR_H_
#define LATENTBUS_CODEC_TENSOR_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace latentbus::codec {

struct Tensor {
  std::vector<uint32_t> shape;  // outermost first; the last dim is the vector width
  std::vector<float> data;      // product(shape) elements

  size_t width() const { return shape.empty() ? 0 : shape.back(); }
  size_t rows() const { return width() == 0 ? 0 : data.size() / width(); }
};

// Product of the dimensions (1 for an empty shape).
size_t NumElements(const std::vector<uint32_t>& shape);

// "[32,576]".
std::string ShapeString(const std::vector<uint32_t>& shape);

}  // namespace latentbus::codec

#endif  // LATENTBUS_CODEC_TENSOR_H_
