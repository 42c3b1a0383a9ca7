#include "bench/bus_plot.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace latentbus::bench {
namespace {

constexpr double kPanelW = 560, kPanelH = 360;
constexpr double kLeft = 70, kRight = 20, kTop = 40, kBottom = 50;
constexpr double kLegend = 40;   // two rows of legend under each panel
constexpr double kMaxNines = 4;  // x axis up to 99.99

struct Style {
  const char* color;
  const char* dash;
};

Style StyleOf(const std::string& system) {
  if (system == "relay") return {"#7f7f7f", "6,4"};
  if (system == "nats") return {"#2ca02c", "6,4"};
  if (system == "latentbus_text") return {"#ff7f0e", ""};
  return {"#1f77b4", ""};
}

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// log10(1 / (1 - p)): 0 at p = 0, 1 at 90 %, 2 at 99 %, ...; 100 % drawn at the right edge.
double Nines(double percentile) {
  if (percentile >= 100.0) return kMaxNines;
  return std::min(kMaxNines, std::log10(1.0 / (1.0 - percentile / 100.0)));
}

std::string Panel(const std::string& mode, const nlohmann::json& m, double x0, double y0) {
  const nlohmann::json& systems = m["systems"];
  double lo = 1e18, hi = 0;
  for (const auto& [name, s] : systems.items()) {
    for (const auto& pt : s["curve"]) {
      const double v = pt[1].get<double>();
      if (v > 0) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    }
  }
  if (hi <= 0) {
    lo = 1;
    hi = 10;
  }
  const double ylo = std::pow(10.0, std::floor(std::log10(lo)));
  const double yhi = std::pow(10.0, std::ceil(std::log10(hi * 1.0001)));
  const double pw = kPanelW - kLeft - kRight, ph = kPanelH - kTop - kBottom;
  auto X = [&](double p) { return x0 + kLeft + Nines(p) / kMaxNines * pw; };
  auto Y = [&](double us) {
    const double v = std::max(us, ylo);
    return y0 + kTop + ph -
           (std::log10(v) - std::log10(ylo)) / (std::log10(yhi) - std::log10(ylo)) * ph;
  };
  std::string svg;
  absl::StrAppend(
      &svg, absl::StrFormat("<text x=\"%.1f\" y=\"%.1f\" font-size=\"15\" font-weight=\"bold\">"
                            "mode %s</text>\n",
                            x0 + kLeft, y0 + 24, Escape(mode)));
  absl::StrAppend(&svg,
                  absl::StrFormat("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                                  "fill=\"none\" stroke=\"#333\"/>\n",
                                  x0 + kLeft, y0 + kTop, pw, ph));
  // Grid: percentiles and decades of latency.
  const char* labels[] = {"0%", "90%", "99%", "99.9%", "99.99%"};
  for (int k = 0; k <= 4; ++k) {
    const double x = x0 + kLeft + k / kMaxNines * pw;
    absl::StrAppend(&svg, absl::StrFormat("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                                          "stroke=\"#ddd\"/>\n",
                                          x, y0 + kTop, x, y0 + kTop + ph));
    absl::StrAppend(&svg, absl::StrFormat("<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" "
                                          "text-anchor=\"middle\">%s</text>\n",
                                          x, y0 + kTop + ph + 16, labels[k]));
  }
  for (double d = ylo; d <= yhi * 1.0001; d *= 10) {
    for (int mul : {1, 2, 5}) {
      const double v = d * mul;
      if (v > yhi * 1.0001) break;
      const double y = Y(v);
      absl::StrAppend(
          &svg, absl::StrFormat("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                                "stroke=\"%s\"/>\n",
                                x0 + kLeft, y, x0 + kLeft + pw, y, mul == 1 ? "#ccc" : "#eee"));
      absl::StrAppend(&svg, absl::StrFormat("<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" "
                                            "text-anchor=\"end\">%g</text>\n",
                                            x0 + kLeft - 6, y + 4, v));
    }
  }
  absl::StrAppend(&svg, absl::StrFormat("<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" "
                                        "text-anchor=\"middle\">percentile</text>\n",
                                        x0 + kLeft + pw / 2, y0 + kTop + ph + 36));
  absl::StrAppend(&svg, absl::StrFormat("<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" "
                                        "text-anchor=\"middle\" transform=\"rotate(-90 %.1f "
                                        "%.1f)\">latency (us, log)</text>\n",
                                        x0 + 18, y0 + kTop + ph / 2, x0 + 18, y0 + kTop + ph / 2));
  // Lines and legend.
  int row = 0;
  std::vector<std::string> order;
  if (m.contains("order")) {
    for (const auto& o : m["order"]) order.push_back(o.get<std::string>());
  } else {
    for (const auto& [name, s] : systems.items()) order.push_back(name);
  }
  for (const std::string& name : order) {
    if (!systems.contains(name)) continue;
    const nlohmann::json& s = systems[name];
    const Style st = StyleOf(name);
    std::string points;
    for (const auto& pt : s["curve"]) {
      absl::StrAppend(
          &points, absl::StrFormat("%.1f,%.1f ", X(pt[0].get<double>()), Y(pt[1].get<double>())));
    }
    absl::StrAppend(&svg, absl::StrFormat("<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" "
                                          "stroke-width=\"2\" stroke-dasharray=\"%s\"/>\n",
                                          points, st.color, st.dash));
    // Two columns under the axis.
    const double ly = y0 + kPanelH + 12 + 16 * (row / 2);
    const double lx = x0 + kLeft - 50 + (row % 2) * (pw / 2 + 25);
    ++row;
    absl::StrAppend(&svg, absl::StrFormat("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                                          "stroke=\"%s\" stroke-width=\"2\" "
                                          "stroke-dasharray=\"%s\"/>\n",
                                          lx, ly - 4, lx + 24, ly - 4, st.color, st.dash));
    const std::string label = s.contains("label") ? s["label"].get<std::string>() : name;
    absl::StrAppend(&svg, absl::StrFormat("<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">%s "
                                          "(p50 %.0f us)</text>\n",
                                          lx + 30, ly, Escape(label), s["p50_us"].get<double>()));
  }
  return svg;
}

}  // namespace

std::string BusLatencySvg(const nlohmann::json& result) {
  const nlohmann::json& modes = result["modes"];
  const int n = std::max<int>(1, static_cast<int>(modes.size()));
  const double width = kPanelW * n, height = kPanelH + kLegend + 50;
  std::string svg = absl::StrFormat(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
      "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\">\n"
      "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
      width, height, width, height);
  std::string title = "latentbus bench bus";
  if (result.contains("payload")) {
    absl::StrAppend(&title, ": ", result["payload"]["description"].get<std::string>());
  }
  if (result.contains("bridge") && !result["bridge"].is_null()) {
    absl::StrAppend(&title, ", bridge ", result["bridge"]["description"].get<std::string>());
  }
  if (result.contains("date"))
    absl::StrAppend(&title, " (", result["date"].get<std::string>(), ")");
  absl::StrAppend(
      &svg, absl::StrFormat("<text x=\"10\" y=\"22\" font-size=\"14\">%s</text>\n", Escape(title)));
  std::vector<std::string> order;
  if (result.contains("mode_order")) {
    for (const auto& m : result["mode_order"]) order.push_back(m.get<std::string>());
  } else {
    for (const auto& [mode, m] : modes.items()) order.push_back(mode);
  }
  int i = 0;
  for (const std::string& mode : order) {
    if (modes.contains(mode)) absl::StrAppend(&svg, Panel(mode, modes[mode], kPanelW * i++, 40));
  }
  absl::StrAppend(&svg, "</svg>\n");
  return svg;
}

}  // namespace latentbus::bench
