#include "broker/metrics.h"

#include <cmath>
#include <fstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"

namespace latentbus::broker {
namespace {

// Upper bounds (seconds) of histogram buckets: 50us * 2^k.
const std::vector<double>& BucketBounds() {
  static const std::vector<double>* bounds = [] {
    auto* b = new std::vector<double>;
    for (double v = 50e-6; v < 120; v *= 2) b->push_back(v);
    return b;
  }();
  return *bounds;
}

std::string Escape(absl::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string FormatValue(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return absl::StrFormat("%.17g", v);
}

}  // namespace

std::string SeriesName(absl::string_view name, const Labels& labels) {
  if (labels.empty()) return std::string(name);
  std::string out = absl::StrCat(name, "{");
  for (size_t i = 0; i < labels.size(); ++i) {
    absl::StrAppend(&out, i ? "," : "", labels[i].first, "=\"", Escape(labels[i].second), "\"");
  }
  out += "}";
  return out;
}

void Metrics::Increment(absl::string_view name, const Labels& labels, double delta) {
  std::string series = SeriesName(name, labels);
  absl::MutexLock lock(&mu_);
  counters_[std::string(name)][series] += delta;
}

void Metrics::SetGauge(absl::string_view name, const Labels& labels, double value) {
  std::string series = SeriesName(name, labels);
  absl::MutexLock lock(&mu_);
  gauges_[std::string(name)][series] = value;
}

void Metrics::Observe(absl::string_view name, double value) {
  const std::vector<double>& bounds = BucketBounds();
  size_t bucket = 0;
  while (bucket < bounds.size() && value > bounds[bucket]) ++bucket;
  absl::MutexLock lock(&mu_);
  Histogram& h = histograms_[std::string(name)];
  if (h.buckets.empty()) h.buckets.assign(bounds.size() + 1, 0);
  ++h.buckets[bucket];
  ++h.count;
  h.sum += value;
}

void Metrics::AddCollector(Collector collector) {
  absl::MutexLock lock(&mu_);
  collectors_.push_back(std::move(collector));
}

double Metrics::CounterValue(absl::string_view name, const Labels& labels) const {
  std::string series = SeriesName(name, labels);
  absl::MutexLock lock(&mu_);
  auto it = counters_.find(std::string(name));
  if (it == counters_.end()) return 0;
  auto jt = it->second.find(series);
  return jt == it->second.end() ? 0 : jt->second;
}

std::vector<Metrics::GaugeSample> Metrics::Collect() const {
  std::vector<Collector> collectors;
  {
    absl::MutexLock lock(&mu_);
    collectors = collectors_;
  }
  std::vector<GaugeSample> out;
  for (const Collector& c : collectors) {
    std::vector<GaugeSample> part = c();
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

std::map<std::string, double> Metrics::Counters() const {
  std::map<std::string, double> out;
  absl::MutexLock lock(&mu_);
  for (const auto& [name, series] : counters_) out.insert(series.begin(), series.end());
  for (const auto& [name, h] : histograms_) {
    out[absl::StrCat(name, "_count")] = static_cast<double>(h.count);
    out[absl::StrCat(name, "_sum")] = h.sum;
  }
  return out;
}

std::map<std::string, double> Metrics::Gauges() const {
  std::vector<GaugeSample> collected = Collect();
  std::map<std::string, double> out;
  for (const GaugeSample& g : collected) out[SeriesName(g.name, g.labels)] = g.value;
  absl::MutexLock lock(&mu_);
  for (const auto& [name, series] : gauges_) out.insert(series.begin(), series.end());
  return out;
}

std::string Metrics::RenderPrometheus() const {
  std::vector<GaugeSample> collected = Collect();
  std::map<std::string, std::map<std::string, double>> gauges;
  for (const GaugeSample& g : collected) gauges[g.name][SeriesName(g.name, g.labels)] = g.value;
  std::string out;
  absl::MutexLock lock(&mu_);
  for (const auto& [name, series] : gauges_) gauges[name].insert(series.begin(), series.end());
  for (const auto& [name, series] : counters_) {
    absl::StrAppend(&out, "# TYPE ", name, " counter\n");
    for (const auto& [s, v] : series) absl::StrAppend(&out, s, " ", FormatValue(v), "\n");
  }
  for (const auto& [name, series] : gauges) {
    absl::StrAppend(&out, "# TYPE ", name, " gauge\n");
    for (const auto& [s, v] : series) absl::StrAppend(&out, s, " ", FormatValue(v), "\n");
  }
  const std::vector<double>& bounds = BucketBounds();
  for (const auto& [name, h] : histograms_) {
    absl::StrAppend(&out, "# TYPE ", name, " histogram\n");
    uint64_t cumulative = 0;
    for (size_t i = 0; i < h.buckets.size(); ++i) {
      cumulative += h.buckets[i];
      double le = i < bounds.size() ? bounds[i] : INFINITY;
      absl::StrAppend(&out, name, "_bucket{le=\"", FormatValue(le), "\"} ", cumulative, "\n");
    }
    absl::StrAppend(&out, name, "_sum ", FormatValue(h.sum), "\n");
    absl::StrAppend(&out, name, "_count ", h.count, "\n");
  }
  return out;
}

double ResidentBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view view(line);
    if (absl::ConsumePrefix(&view, "VmRSS:")) {
      view = absl::StripAsciiWhitespace(view);
      absl::ConsumeSuffix(&view, "kB");
      double kib = 0;
      if (absl::SimpleAtod(absl::StripAsciiWhitespace(view), &kib)) return kib * 1024;
    }
  }
  return 0;
}

}  // namespace latentbus::broker
