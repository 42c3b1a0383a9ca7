#include "telemetry/sampler.h"

#include "gtest/gtest.h"

namespace latentbus::telemetry {
namespace {

SpanContext Parent(bool sampled) {
  return SpanContext{NewTraceId(), NewSpanId(), static_cast<uint8_t>(sampled ? 1 : 0), true};
}

TEST(SamplerTest, DefaultIsParentBasedAlwaysOn) {
  absl::StatusOr<Sampler> s = Sampler::Parse("", "");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->ShouldSample(SpanContext{}, NewTraceId()));
  EXPECT_TRUE(s->ShouldSample(Parent(true), NewTraceId()));
  EXPECT_FALSE(s->ShouldSample(Parent(false), NewTraceId()));
  EXPECT_EQ(s->Description(), "ParentBased{root=AlwaysOnSampler}");
}

TEST(SamplerTest, AlwaysOnAndOffIgnoreTheParent) {
  absl::StatusOr<Sampler> on = Sampler::Parse("always_on", "");
  absl::StatusOr<Sampler> off = Sampler::Parse("ALWAYS_OFF", "");
  ASSERT_TRUE(on.ok() && off.ok());
  EXPECT_TRUE(on->ShouldSample(Parent(false), NewTraceId()));
  EXPECT_FALSE(off->ShouldSample(Parent(true), NewTraceId()));
}

TEST(SamplerTest, ParentBasedAlwaysOffSamplesOnlyUnderASampledParent) {
  absl::StatusOr<Sampler> s = Sampler::Parse("parentbased_always_off", "");
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->ShouldSample(SpanContext{}, NewTraceId()));
  EXPECT_TRUE(s->ShouldSample(Parent(true), NewTraceId()));
}

TEST(SamplerTest, RatioKeepsAboutThatShareAndIsTheSameForATrace) {
  absl::StatusOr<Sampler> s = Sampler::Parse("traceidratio", "0.25");
  ASSERT_TRUE(s.ok());
  int kept = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const TraceId id = NewTraceId();
    const bool first = s->ShouldSample(SpanContext{}, id);
    EXPECT_EQ(first, s->ShouldSample(Parent(!first), id)) << "not parent-based";
    kept += first;
  }
  // Binomial(20000, 0.25): sd ~61; 6 sd either side.
  EXPECT_NEAR(kept, n / 4, 370);
}

TEST(SamplerTest, RatioByTheIdsLowBytes) {
  absl::StatusOr<Sampler> s = Sampler::Parse("traceidratio", "0.5");
  ASSERT_TRUE(s.ok());
  TraceId low{}, high{};
  low[15] = 1;     // low 64 bits = 1: below 2^63
  high[8] = 0x80;  // = 2^63: not below
  EXPECT_TRUE(s->ShouldSample(SpanContext{}, low));
  EXPECT_FALSE(s->ShouldSample(SpanContext{}, high));
}

TEST(SamplerTest, ParentBasedRatioFollowsTheParent) {
  absl::StatusOr<Sampler> s = Sampler::Parse("parentbased_traceidratio", "0");
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->ShouldSample(SpanContext{}, NewTraceId()));
  EXPECT_TRUE(s->ShouldSample(Parent(true), NewTraceId()));
  EXPECT_EQ(s->Description(), "ParentBased{root=TraceIdRatioBased{0.000000}}");
}

TEST(SamplerTest, RefusesUnknownSamplersAndBadRatios) {
  EXPECT_FALSE(Sampler::Parse("sometimes", "").ok());
  EXPECT_FALSE(Sampler::Parse("traceidratio", "1.5").ok());
  EXPECT_FALSE(Sampler::Parse("traceidratio", "-0.1").ok());
  EXPECT_FALSE(Sampler::Parse("traceidratio", "half").ok());
  EXPECT_FALSE(Sampler::Parse("traceidratio", "nan").ok());
}

}  // namespace
}  // namespace latentbus::telemetry
