// libFuzzer target: arbitrary bytes as an Envelope.traceparent value (it comes from any
// sender), through ParseTraceparent. Invariants beyond "no crash, no sanitizer report":
// what parses is valid, formats back to a value that parses to the same context, and
// for version 00 formats back to the input itself; a value of the wrong length, with an
// upper-case digit or version ff never parses.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "telemetry/trace_context.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using latentbus::telemetry::kTraceparentLength;
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::optional<latentbus::telemetry::SpanContext> c =
      latentbus::telemetry::ParseTraceparent(input);
  if (!c.has_value()) return 0;
  if (!c->valid() || !c->remote) std::abort();
  if (input.size() < kTraceparentLength) std::abort();
  if (input.compare(0, 2, "ff") == 0) std::abort();
  for (size_t i = 0; i < kTraceparentLength; ++i) {
    if (input[i] >= 'A' && input[i] <= 'F') std::abort();
  }
  const std::string formatted = latentbus::telemetry::FormatTraceparent(*c);
  std::optional<latentbus::telemetry::SpanContext> again =
      latentbus::telemetry::ParseTraceparent(formatted);
  if (!again.has_value() || !(*again == *c)) std::abort();
  // Version 00 is exactly 55 characters and round-trips; a later version keeps its first
  // four fields, written back as version 00.
  if (input.compare(0, 2, "00") == 0 && formatted != input) std::abort();
  if (formatted.compare(2, kTraceparentLength - 2, input, 2, kTraceparentLength - 2) != 0) {
    std::abort();
  }
  return 0;
}
