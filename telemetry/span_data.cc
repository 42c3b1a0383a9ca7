#include "telemetry/span_data.h"

namespace latentbus::telemetry {

size_t SpanData::ApproxBytes() const {
  size_t bytes = sizeof(SpanData) + name.size() + error_message.size() +
                 attributes.capacity() * sizeof(Attribute);
  for (const Attribute& a : attributes) {
    bytes += a.key.size();
    if (const auto* s = std::get_if<std::string>(&a.value)) bytes += s->size();
  }
  return bytes;
}

}  // namespace latentbus::telemetry
