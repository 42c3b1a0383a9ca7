#include "telemetry/sampler.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace latentbus::telemetry {
namespace {

uint64_t LowBits(const TraceId& id) {
  uint64_t v = 0;
  for (size_t i = 8; i < 16; ++i) v = v << 8 | id[i];
  return v;
}

}  // namespace

Sampler::Sampler(Root root, double ratio, bool parent_based)
    : root_(root), ratio_(ratio), parent_based_(parent_based) {
  if (root_ == Root::kRatio) {
    // ratio * 2^64 as an integer; 1.0 keeps every trace (RootDecision checks it first).
    threshold_ = ratio_ >= 1.0 ? UINT64_MAX
                 : ratio_ <= 0 ? 0
                               : static_cast<uint64_t>(std::ldexp(ratio_, 64));
  }
}

absl::StatusOr<Sampler> Sampler::Parse(absl::string_view name_in, absl::string_view arg_in) {
  const std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(name_in));
  const absl::string_view arg = absl::StripAsciiWhitespace(arg_in);
  auto ratio = [&]() -> absl::StatusOr<double> {
    if (arg.empty()) return 1.0;
    double r = 0;
    if (!absl::SimpleAtod(arg, &r) || !(r >= 0 && r <= 1)) {
      return absl::InvalidArgumentError(
          absl::StrCat("OTEL_TRACES_SAMPLER_ARG '", arg, "' is not a ratio in [0, 1]"));
    }
    return r;
  };
  if (name.empty() || name == "parentbased_always_on") return Sampler(Root::kAlwaysOn, 1, true);
  if (name == "always_on") return Sampler(Root::kAlwaysOn, 1, false);
  if (name == "always_off") return Sampler(Root::kAlwaysOff, 0, false);
  if (name == "parentbased_always_off") return Sampler(Root::kAlwaysOff, 0, true);
  if (name == "traceidratio" || name == "parentbased_traceidratio") {
    absl::StatusOr<double> r = ratio();
    if (!r.ok()) return r.status();
    return Sampler(Root::kRatio, *r, name != "traceidratio");
  }
  return absl::InvalidArgumentError(
      absl::StrCat("OTEL_TRACES_SAMPLER '", name_in,
                   "' is not one of always_on, always_off, traceidratio, parentbased_always_on, "
                   "parentbased_always_off, parentbased_traceidratio"));
}

bool Sampler::RootDecision(const TraceId& trace_id) const {
  switch (root_) {
    case Root::kAlwaysOn:
      return true;
    case Root::kAlwaysOff:
      return false;
    case Root::kRatio:
      return ratio_ >= 1.0 || LowBits(trace_id) < threshold_;
  }
  return false;
}

bool Sampler::ShouldSample(const SpanContext& parent, const TraceId& trace_id) const {
  if (parent_based_ && parent.valid()) return parent.sampled();
  return RootDecision(trace_id);
}

std::string Sampler::Description() const {
  std::string root;
  switch (root_) {
    case Root::kAlwaysOn:
      root = "AlwaysOnSampler";
      break;
    case Root::kAlwaysOff:
      root = "AlwaysOffSampler";
      break;
    case Root::kRatio:
      root = absl::StrFormat("TraceIdRatioBased{%f}", ratio_);
      break;
  }
  return parent_based_ ? absl::StrCat("ParentBased{root=", root, "}") : root;
}

}  // namespace latentbus::telemetry
