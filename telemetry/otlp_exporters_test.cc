// Both OTLP transports against servers built in the test from the generated messages:
// an HTTP server (cpp-httplib) and a gRPC TraceService. (The official definitions are
// checked end to end by tests/tracing_e2e_test.py.)
#include <grpc/grpc.h>
#include <httplib.h>

#include <thread>

#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "telemetry/config.h"
#include "telemetry/otlp_grpc_exporter.h"
#include "telemetry/otlp_http_exporter.h"

namespace latentbus::telemetry {
namespace {

// gRPC stays initialised for the whole binary, so that its internal threads end with the
// process rather than finishing unjoined between tests once the last channel and server
// are gone (a thread leak to ThreadSanitizer, scripts/tsan.sh).
const bool kGrpcKeptUp = [] {
  grpc_init();
  return true;
}();

otlp::ExportTraceServiceRequest OneSpan(const std::string& name) {
  SpanData d;
  d.context = SpanContext{NewTraceId(), NewSpanId(), 1, false};
  d.name = name;
  Resource r;
  r.attributes.push_back({"service.name", std::string("test")});
  return EncodeSpans(r, &d, 1);
}

class HttpCollector {
 public:
  HttpCollector() {
    server_.Post("/v1/traces", [this](const httplib::Request& req, httplib::Response& res) {
      absl::MutexLock lock(&mu_);
      content_type_ = req.get_header_value("Content-Type");
      auth_ = req.get_header_value("authorization");
      otlp::ExportTraceServiceRequest r;
      if (!r.ParseFromString(req.body)) {
        res.status = 400;
        return;
      }
      names_.push_back(r.resource_spans(0).scope_spans(0).spans(0).name());
      otlp::ExportTraceServiceResponse ok;
      res.set_content(ok.SerializeAsString(), "application/x-protobuf");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~HttpCollector() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  absl::Mutex mu_;
  std::string content_type_, auth_;
  std::vector<std::string> names_;

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

TEST(OtlpHttpExporterTest, PostsProtobufWithHeaders) {
  HttpCollector collector;
  auto e =
      OtlpHttpExporter::Create(absl::StrCat("http://127.0.0.1:", collector.port(), "/v1/traces"),
                               {{"authorization", "Bearer t"}});
  ASSERT_TRUE(e.ok()) << e.status();
  ASSERT_TRUE((*e)->Export(OneSpan("over-http"), absl::Seconds(5)).ok());
  absl::MutexLock lock(&collector.mu_);
  EXPECT_EQ(collector.content_type_, "application/x-protobuf");
  EXPECT_EQ(collector.auth_, "Bearer t");
  ASSERT_EQ(collector.names_.size(), 1u);
  EXPECT_EQ(collector.names_[0], "over-http");
}

TEST(OtlpHttpExporterTest, ErrorsNameTheProblem) {
  HttpCollector collector;
  auto wrong_path = OtlpHttpExporter::Create(
      absl::StrCat("http://127.0.0.1:", collector.port(), "/elsewhere"), {});
  ASSERT_TRUE(wrong_path.ok());
  absl::Status s = (*wrong_path)->Export(OneSpan("x"), absl::Seconds(5));
  EXPECT_TRUE(absl::IsUnavailable(s));
  EXPECT_NE(s.message().find("HTTP 404"), absl::string_view::npos) << s;
  auto refused = OtlpHttpExporter::Create("http://127.0.0.1:1/v1/traces", {});
  ASSERT_TRUE(refused.ok());
  EXPECT_FALSE((*refused)->Export(OneSpan("x"), absl::Seconds(2)).ok());
  EXPECT_FALSE(OtlpHttpExporter::Create("127.0.0.1:4318", {}).ok());
}

class GrpcCollector final : public otlp::TraceService::Service {
 public:
  grpc::Status Export(grpc::ServerContext* context, const otlp::ExportTraceServiceRequest* request,
                      otlp::ExportTraceServiceResponse*) override {
    absl::MutexLock lock(&mu);
    auto it = context->client_metadata().find("x-tenant");
    if (it != context->client_metadata().end())
      tenant = std::string(it->second.data(), it->second.size());
    names.push_back(request->resource_spans(0).scope_spans(0).spans(0).name());
    return grpc::Status::OK;
  }
  absl::Mutex mu;
  std::string tenant;
  std::vector<std::string> names;
};

TEST(OtlpGrpcExporterTest, CallsTraceServiceExport) {
  GrpcCollector service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(port, 0);
  auto e = OtlpGrpcExporter::Create(absl::StrCat("127.0.0.1:", port), false, {{"X-Tenant", "t1"}});
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE((*e)->Export(OneSpan("over-grpc"), absl::Seconds(5)).ok());
  {
    absl::MutexLock lock(&service.mu);
    ASSERT_EQ(service.names.size(), 1u);
    EXPECT_EQ(service.names[0], "over-grpc");
    EXPECT_EQ(service.tenant, "t1");
  }
  server->Shutdown();
  EXPECT_FALSE((*e)->Export(OneSpan("x"), absl::Seconds(1)).ok());
}

// The whole path from the environment: a Tracer made by MakeTracer exports a span over
// HTTP at shutdown.
TEST(OtlpHttpExporterTest, ATracerFromTheEnvironmentExportsAtShutdown) {
  HttpCollector collector;
  const std::string endpoint = absl::StrCat("http://127.0.0.1:", collector.port());
  absl::StatusOr<TracingConfig> c =
      TracingConfigFromEnvironment("svc", "", [&endpoint](const char* name) -> const char* {
        return std::string(name) == "OTEL_EXPORTER_OTLP_ENDPOINT" ? endpoint.c_str() : nullptr;
      });
  ASSERT_TRUE(c.ok());
  absl::StatusOr<std::unique_ptr<Tracer>> t = MakeTracer(*c);
  ASSERT_TRUE(t.ok() && *t != nullptr);
  (*t)->StartSpan("from-env", SpanContext{}).End();
  (*t)->Shutdown(absl::Seconds(5));
  absl::MutexLock lock(&collector.mu_);
  ASSERT_EQ(collector.names_.size(), 1u);
  EXPECT_EQ(collector.names_[0], "from-env");
}

}  // namespace
}  // namespace latentbus::telemetry
