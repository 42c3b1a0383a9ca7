// What `latentbus bench bus` reports: the names of the systems it compares, the JSON of
// one measured phase, and the human-readable tables of a whole run (bench/bus_bench.h
// runs it; the JSON contract is documented there).
#ifndef LATENTBUS_BENCH_BUS_REPORT_H_
#define LATENTBUS_BENCH_BUS_REPORT_H_

#include <ostream>

#include "bench/bus_driver.h"
#include "nlohmann/json.hpp"

namespace latentbus::bench {

// Systems, as named in the JSON.
inline constexpr char kRelay[] = "relay";
inline constexpr char kNats[] = "nats";
inline constexpr char kLatentbus[] = "latentbus";
inline constexpr char kLatentbusText[] = "latentbus_text";
inline constexpr char kLatentbusCompare[] = "latentbus_compare";

// a[key] / b[key]; 0 when either is missing or b[key] is not positive.
double Ratio(const nlohmann::json& a, const nlohmann::json& b, const char* key);

// Latencies in microseconds, rates, counts, rejects by reason and the percentile curve.
nlohmann::json PhaseJson(const PhaseResult& result);

// The human-readable tables of a RunBusBench result.
void PrintBusBenchTable(const nlohmann::json& result, std::ostream& out);

}  // namespace latentbus::bench

#endif  // LATENTBUS_BENCH_BUS_REPORT_H_
