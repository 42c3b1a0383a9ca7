// Which new spans are recorded, as the OpenTelemetry SDKs decide it, configured by the
// standard variables:
//   OTEL_TRACES_SAMPLER      always_on | always_off | traceidratio |
//                            parentbased_always_on (default) | parentbased_always_off |
//                            parentbased_traceidratio
//   OTEL_TRACES_SAMPLER_ARG  the ratio in [0, 1] for the *traceidratio samplers (default 1)
// traceidratio keeps a trace when the trace id's last 8 bytes, read as a big-endian
// integer, are below ratio * 2^64: every process with the same ratio makes the same
// choice for a trace. parentbased_* follows the parent's sampled flag when there is a
// parent (from this process or another) and applies the named root sampler otherwise.
//
// Thread safety: immutable after construction; ShouldSample is safe for concurrent use
// and allocates nothing.
#ifndef LATENTBUS_TELEMETRY_SAMPLER_H_
#define LATENTBUS_TELEMETRY_SAMPLER_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "telemetry/trace_context.h"

namespace latentbus::telemetry {

class Sampler {
 public:
  enum class Root { kAlwaysOn, kAlwaysOff, kRatio };

  // parentbased_always_on.
  Sampler() = default;
  Sampler(Root root, double ratio, bool parent_based);

  // From the values of OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG (empty: unset).
  // INVALID_ARGUMENT for an unknown sampler or a ratio that is not a number in [0, 1].
  static absl::StatusOr<Sampler> Parse(absl::string_view name, absl::string_view arg);

  // Whether a new span in trace `trace_id` under `parent` (invalid: a root span) is
  // recorded and exported.
  bool ShouldSample(const SpanContext& parent, const TraceId& trace_id) const;

  // The sampler's description as OpenTelemetry writes it, e.g.
  // "ParentBased{root=TraceIdRatioBased{0.010000}}".
  std::string Description() const;

 private:
  bool RootDecision(const TraceId& trace_id) const;

  Root root_ = Root::kAlwaysOn;
  double ratio_ = 1.0;
  uint64_t threshold_ = 0;  // kRatio: sample when the id's low 64 bits are below it
  bool parent_based_ = true;
};

}  // namespace latentbus::telemetry

#endif  // LATENTBUS_TELEMETRY_SAMPLER_H_
