#include "bench/otlp_sink.h"

#include <httplib.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"

namespace latentbus::bench {

struct OtlpSink::Impl {
  httplib::Server server;
  int port = 0;
  std::thread thread;
  std::atomic<uint64_t> requests{0}, bytes{0};
};

absl::StatusOr<std::unique_ptr<OtlpSink>> OtlpSink::Start() {
  auto impl = std::make_unique<Impl>();
  Impl* i = impl.get();
  i->server.Post("/v1/traces", [i](const httplib::Request& req, httplib::Response& res) {
    ++i->requests;
    i->bytes += req.body.size();
    res.set_content("", "application/x-protobuf");  // an empty ExportTraceServiceResponse
  });
  i->port = i->server.bind_to_any_port("127.0.0.1");
  if (i->port <= 0) return absl::UnavailableError("the OTLP sink cannot bind a loopback port");
  i->thread = std::thread([i] { i->server.listen_after_bind(); });
  return std::unique_ptr<OtlpSink>(new OtlpSink(std::move(impl)));
}

OtlpSink::OtlpSink(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

OtlpSink::~OtlpSink() {
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::string OtlpSink::url() const {
  return absl::StrCat("http://127.0.0.1:", impl_->port, "/v1/traces");
}
uint64_t OtlpSink::requests() const { return impl_->requests.load(); }
uint64_t OtlpSink::bytes() const { return impl_->bytes.load(); }

}  // namespace latentbus::bench
