// The SVG latency chart of a `latentbus bench bus` result (--plot FILE): one panel per
// mode, latency (us, log scale) against percentile on a "nines" axis (0, 90, 99, 99.9,
// 99.99 evenly spaced), one line per system from its "curve", the baselines dashed.
// Hand-written SVG 1.1, no scripts, viewable in any browser.
//
// Thread safety: pure function.
#ifndef LATENTBUS_BENCH_BUS_PLOT_H_
#define LATENTBUS_BENCH_BUS_PLOT_H_

#include <string>

#include "nlohmann/json.hpp"

namespace latentbus::bench {

std::string BusLatencySvg(const nlohmann::json& result);

}  // namespace latentbus::bench

#endif  // LATENTBUS_BENCH_BUS_PLOT_H_
