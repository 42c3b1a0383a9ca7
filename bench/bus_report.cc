#include "bench/bus_report.h"

#include <cmath>
#include <iomanip>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"

namespace latentbus::bench {
namespace {

double Us(uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

}  // namespace

nlohmann::json PhaseJson(const PhaseResult& r) {
  const LatencyHistogram& h = r.latency;
  nlohmann::json j = {
      {"p50_us", Us(h.ValueAtPercentile(50))},
      {"p90_us", Us(h.ValueAtPercentile(90))},
      {"p99_us", Us(h.ValueAtPercentile(99))},
      {"p999_us", Us(h.ValueAtPercentile(99.9))},
      {"max_us", Us(h.max())},
      {"mean_us", h.mean() / 1000.0},
      {"msgs_per_s", r.msgs_per_s},
      {"sent_per_s", r.sent_per_s},
      {"sent", r.sent},
      {"completed", r.completed},
      {"lost", r.lost},
      {"rejects", r.reject_total},
      {"reject_reasons", r.rejects},
  };
  nlohmann::json curve = nlohmann::json::array();
  for (const auto& [p, v] : h.PercentileCurve(10, 4)) curve.push_back({p, Us(v)});
  j["curve"] = std::move(curve);
  return j;
}

double Ratio(const nlohmann::json& a, const nlohmann::json& b, const char* key) {
  if (!a.contains(key) || !b.contains(key)) return 0;
  const double d = b[key].get<double>();
  return d > 0 ? a[key].get<double>() / d : 0;
}

void PrintBusBenchTable(const nlohmann::json& r, std::ostream& out) {
  const nlohmann::json& wl = r["workload"];
  out << "latentbus bench bus — " << r["date"].get<std::string>() << ", "
      << r["machine"]["nproc"].get<unsigned>() << " x " << r["machine"]["cpu"].get<std::string>()
      << "\n";
  out << "payload: " << r["payload"]["description"].get<std::string>() << " ("
      << r["payload"]["content_bytes"].get<size_t>() << " B content, "
      << r["payload"]["envelope_bytes"].get<size_t>() << " B envelope)\n";
  if (!r["bridge"].is_null()) {
    out << "bridge:  " << r["bridge"]["description"].get<std::string>() << ", cosine " << std::fixed
        << std::setprecision(3) << r["bridge"]["cosine"].get<double>()
        << " (broker translates every latent through it)\n";
  }
  if (r.contains("compare_bridge")) {
    out << "compare: " << r["compare_bridge"]["description"].get<std::string>()
        << " (the second latentbus row)\n";
  }
  out << "agents:  " << wl["agents"].get<int>() << ", "
      << (wl["loop"] == "open"
              ? absl::StrCat("open loop at ", wl["rate"].get<double>(), " msgs/s")
              : absl::StrCat("closed loop, window ", wl["window"].get<int>(), " per sender"))
      << ", warm-up " << std::setprecision(1) << wl["warmup_s"].get<double>() << " s, measured "
      << wl["duration_s"].get<double>() << " s; broker " << r["broker"].get<std::string>();
  if (r.contains("protocol")) out << ", stream protocol " << r["protocol"].get<int>();
  if (r.contains("broker_translation")) {
    out << " (translation: " << r["broker_translation"]["threads"].get<int>() << " workers x "
        << r["broker_translation"]["compute_threads"].get<int>() << " compute threads";
    if (r["broker_translation"].contains("kernels")) {
      out << ", kernels " << r["broker_translation"]["kernels"].get<std::string>();
    }
    if (r["broker_translation"].contains("inline_max_tokens")) {
      out << ", inline up to " << r["broker_translation"]["inline_max_tokens"].get<int>()
          << " tokens";
    }
    if (r["broker_translation"].contains("isolated_us")) {
      out << "; this packet alone: " << std::fixed << std::setprecision(0)
          << r["broker_translation"]["isolated_us"].get<double>() << " us";
    }
    out << ")";
  }
  out << "\n";
  for (const auto& mode_name : r["mode_order"]) {
    const std::string mode = mode_name.get<std::string>();
    const nlohmann::json& m = r["modes"][mode];
    out << "\nmode " << mode
        << (mode == "request" ? " (latency = round trip)"
            : mode == "topic" ? " (latency = send -> each subscriber's delivery)"
                              : " (latency = send -> delivery)")
        << "\n";
    out << std::left << std::setw(34) << "system" << std::right << std::setw(9) << "p50 us"
        << std::setw(9) << "p90 us" << std::setw(9) << "p99 us" << std::setw(10) << "p99.9 us"
        << std::setw(9) << "max us" << std::setw(10) << "msgs/s" << std::setw(8) << "cpu us"
        << std::setw(6) << "wire" << std::setw(8) << "rejects" << std::setw(6) << "lost"
        << std::setw(12) << "p50 xfloor" << std::setw(11) << "p50 xnats" << std::setw(12)
        << "p99 xfloor" << std::setw(11) << "p99 xnats"
        << "\n";
    const nlohmann::json& sys = m["systems"];
    for (const auto& name : m["order"]) {
      const std::string n = name.get<std::string>();
      if (!sys.contains(n)) continue;
      const nlohmann::json& s = sys[n];
      out << std::left << std::setw(34) << s["label"].get<std::string>() << std::right << std::fixed
          << std::setprecision(0) << std::setw(9) << s["p50_us"].get<double>() << std::setw(9)
          << s["p90_us"].get<double>() << std::setw(9) << s["p99_us"].get<double>() << std::setw(10)
          << s["p999_us"].get<double>() << std::setw(9) << s["max_us"].get<double>()
          << std::setw(10) << s["msgs_per_s"].get<double>() << std::setw(8)
          << (s.contains("cpu_us_per_msg") ? s["cpu_us_per_msg"].get<double>() : 0.0)
          << std::setw(6) << std::setprecision(1)
          << (s.contains("wire_msgs_per_msg") ? s["wire_msgs_per_msg"].get<double>() : 0.0)
          << std::setprecision(0) << std::setw(8) << s["rejects"].get<uint64_t>() << std::setw(6)
          << s["lost"].get<uint64_t>();
      if (n == kLatentbus || n == kLatentbusCompare || n == kLatentbusText) {
        const nlohmann::json& ratios = m["ratios"];
        std::ostringstream cells;
        for (const char* k : {"_vs_floor_p50", "_vs_nats_p50", "_vs_floor_p99", "_vs_nats_p99"}) {
          const std::string key = n + k;
          cells << std::setw(std::string(k).find("floor") != std::string::npos ? 12 : 11);
          if (ratios.contains(key)) {
            cells << absl::StrCat(std::round(ratios[key].get<double>() * 100) / 100, "x");
          } else {
            cells << "-";
          }
        }
        out << cells.str();
      }
      out << "\n";
      const nlohmann::json& ratios = m["ratios"];
      if (ratios.contains(n + "_vs_jetstream_p50")) {
        out << "    vs JetStream alone, same sync policy: p50 " << std::setprecision(2)
            << ratios[n + "_vs_jetstream_p50"].get<double>() << "x, p99 "
            << ratios[n + "_vs_jetstream_p99"].get<double>() << "x, msgs/s "
            << ratios[n + "_vs_jetstream_msgs_per_s"].get<double>() << "x\n";
      }
      if (ratios.contains(n + "_vs_off_p50")) {
        out << "    vs tracing off (the latentbus row): p50 " << std::setprecision(2)
            << ratios[n + "_vs_off_p50"].get<double>() << "x, p99 "
            << ratios[n + "_vs_off_p99"].get<double>() << "x, msgs/s "
            << ratios[n + "_vs_off_msgs_per_s"].get<double>() << "x, cpu/msg "
            << ratios[n + "_vs_off_cpu"].get<double>() << "x; spans exported "
            << s.value("spans_exported", uint64_t{0}) << ", dropped "
            << s.value("spans_dropped", uint64_t{0}) << "\n";
      }
      if (s.contains("translation_batch_mean_us")) {
        out << "    broker: translation " << std::setprecision(0)
            << s["translation_batch_mean_us"].get<double>() << " us per batch (mean, "
            << std::setprecision(2) << s["translation_packets_per_batch"].get<double>()
            << " packets/batch";
        if (s.contains("translation_inline_share")) {
          out << ", " << std::setprecision(0) << 100 * s["translation_inline_share"].get<double>()
              << "% inline";
        }
        out << ")";
        if (s.contains("residence_mean_us")) {
          out << ", queue residence " << std::setprecision(0)
              << s["residence_mean_us"].get<double>() << " us (mean)";
        }
        out << "\n";
      }
    }
  }
  out << "\ncpu us = CPU time per completed message over the phase: the bench process (agents "
         "+ in-process relay/broker) plus nats-server's process for nats\n"
         "wire = messages the agents wrote and read per completed message (gRPC messages; NATS "
         "PUB + MSG): per round trip in request mode\n";
  if (r.contains("goal")) {
    const nlohmann::json& g = r["goal"];
    auto verdict = [&g](const char* key) {
      return g.contains(key) ? (g[key].get<bool>() ? "met" : "MISSED") : "n/a";
    };
    out << "goal (" << g["mode"].get<std::string>()
        << ", latentbus p50): <= 2x floor: " << verdict("met_vs_floor")
        << "; <= nats-server: " << verdict("met_vs_nats") << "\n";
  }
  if (r.contains("latent_goal")) {
    const nlohmann::json& g = r["latent_goal"];
    auto verdict = [&g](const char* key) {
      return g.contains(key) ? (g[key].get<bool>() ? "met" : "MISSED") : "n/a";
    };
    out << "goal (" << g["mode"].get<std::string>() << ", translated latents at text speed): p50 "
        << "<= 3x floor: " << verdict("met_vs_floor") << "; <= text p50 + 1.5x isolated "
        << "translation (" << std::fixed << std::setprecision(0)
        << g["allowed_p50_us"].get<double>() << " us): " << verdict("met_vs_text")
        << "; text p50 <= nats-server: " << verdict("text_met_vs_nats") << "\n";
  }
  if (r.contains("cluster") && r["cluster"].contains("goal")) {
    const nlohmann::json& c = r["cluster"];
    for (const auto& [policy, p] : c["policies"].items()) {
      out << "cluster (" << policy << ", " << c["brokers"].get<int>() << " brokers): p50 "
          << std::setprecision(2) << p["vs_jetstream_p50"].get<double>()
          << "x JetStream alone (goal <= 1.5x: "
          << (c["goal"].value("met_" + policy, false) ? "met" : "MISSED") << "); msgs/s "
          << p["msgs_per_s_n_vs_1"].get<double>() << "x one broker's\n";
    }
  }
}

}  // namespace latentbus::bench
