// An OTLP/HTTP endpoint in this process that accepts every POST /v1/traces and discards
// it (200, an empty ExportTraceServiceResponse): what `latentbus bench bus --tracing`
// exports to, so that tracing's cost in the broker is measured without a collector's.
// It counts requests and bytes; it does not parse them.
//
// Thread safety: requests() and bytes() may be read from any thread.
#ifndef LATENTBUS_BENCH_OTLP_SINK_H_
#define LATENTBUS_BENCH_OTLP_SINK_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace latentbus::bench {

class OtlpSink {
 public:
  // Listens on 127.0.0.1, a free port.
  static absl::StatusOr<std::unique_ptr<OtlpSink>> Start();
  ~OtlpSink();  // stops

  // http://127.0.0.1:PORT/v1/traces
  std::string url() const;
  uint64_t requests() const;
  uint64_t bytes() const;

 private:
  struct Impl;
  explicit OtlpSink(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace latentbus::bench

#endif  // LATENTBUS_BENCH_OTLP_SINK_H_
