#include "telemetry/config.h"

#include <map>
#include <string>

#include "gtest/gtest.h"

namespace latentbus::telemetry {
namespace {

absl::StatusOr<TracingConfig> FromEnv(const std::map<std::string, std::string>& env) {
  return TracingConfigFromEnvironment("latentbus-broker", "b1", [&env](const char* name) {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

std::string Resource(const TracingConfig& c, const std::string& key) {
  for (const Attribute& a : c.resource.attributes) {
    if (a.key == key) return std::get<std::string>(a.value);
  }
  return "<unset>";
}

TEST(TracingConfigTest, OffWithoutAnEndpoint) {
  absl::StatusOr<TracingConfig> c = FromEnv({{"OTEL_SERVICE_NAME", "x"}});
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->enabled);
  absl::StatusOr<std::unique_ptr<Tracer>> t = MakeTracer(*c);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, nullptr);
}

TEST(TracingConfigTest, OffWhenDisabledOrExporterNone) {
  for (const auto& off : std::map<std::string, std::string>{{"OTEL_SDK_DISABLED", "TRUE"},
                                                            {"OTEL_TRACES_EXPORTER", "none"}}) {
    absl::StatusOr<TracingConfig> c =
        FromEnv({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"}, off});
    ASSERT_TRUE(c.ok());
    EXPECT_FALSE(c->enabled) << off.first;
  }
}

TEST(TracingConfigTest, HttpEndpointGetsTheTracesPath) {
  absl::StatusOr<TracingConfig> c = FromEnv({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"}});
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->enabled);
  EXPECT_EQ(c->protocol, OtlpProtocol::kHttpProtobuf);
  EXPECT_EQ(c->endpoint, "http://c:4318/v1/traces");
  c = FromEnv({{"OTEL_EXPORTER_OTLP_ENDPOINT", "https://c:4318/otlp/"}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->endpoint, "https://c:4318/otlp/v1/traces");
  // The signal's own variable is used as it is, and wins.
  c = FromEnv({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"},
               {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://t:9/custom"}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->endpoint, "http://t:9/custom");
}

TEST(TracingConfigTest, GrpcEndpointAndTls) {
  absl::StatusOr<TracingConfig> c = FromEnv(
      {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"}, {"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->protocol, OtlpProtocol::kGrpc);
  EXPECT_EQ(c->endpoint, "c:4317");
  EXPECT_FALSE(c->tls);
  c = FromEnv({{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "c:4317"},
               {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc"}});
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->tls);  // no scheme, not insecure
  c = FromEnv({{"OTEL_EXPORTER_OTLP_ENDPOINT", "c:4317"},
               {"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"},
               {"OTEL_EXPORTER_OTLP_INSECURE", "true"}});
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->tls);
}

TEST(TracingConfigTest, ServiceResourceHeadersSamplerAndBatch) {
  absl::StatusOr<TracingConfig> c =
      FromEnv({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"},
               {"OTEL_RESOURCE_ATTRIBUTES", "service.name=fromattrs, deployment.environment=prod"},
               {"OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20abc,x-tenant=t1"},
               {"OTEL_TRACES_SAMPLER", "parentbased_traceidratio"},
               {"OTEL_TRACES_SAMPLER_ARG", "0.01"},
               {"OTEL_BSP_MAX_QUEUE_SIZE", "100"},
               {"OTEL_BSP_SCHEDULE_DELAY", "250"}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(Resource(*c, "service.name"), "fromattrs");
  EXPECT_EQ(Resource(*c, "deployment.environment"), "prod");
  EXPECT_EQ(Resource(*c, "service.instance.id"), "b1");
  ASSERT_EQ(c->headers.size(), 2u);
  EXPECT_EQ(c->headers[0].second, "Bearer abc");
  EXPECT_EQ(c->sampler.Description(), "ParentBased{root=TraceIdRatioBased{0.010000}}");
  EXPECT_EQ(c->batch.max_queue_spans, 100u);
  EXPECT_EQ(c->batch.max_batch_spans, 100u);  // never more than the queue holds
  EXPECT_EQ(c->batch.schedule_delay, absl::Milliseconds(250));
  c = FromEnv({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"},
               {"OTEL_SERVICE_NAME", "named"},
               {"OTEL_RESOURCE_ATTRIBUTES", "service.name=fromattrs"}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(Resource(*c, "service.name"), "named");
  c = FromEnv({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(Resource(*c, "service.name"), "latentbus-broker");
}

TEST(TracingConfigTest, NamesTheWrongVariable) {
  const std::string endpoint = "http://c:4318";
  for (const auto& [var, value] :
       std::map<std::string, std::string>{{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"},
                                          {"OTEL_TRACES_SAMPLER", "sometimes"},
                                          {"OTEL_BSP_MAX_QUEUE_SIZE", "-3"},
                                          {"OTEL_EXPORTER_OTLP_TIMEOUT", "soon"},
                                          {"OTEL_RESOURCE_ATTRIBUTES", "novalue"},
                                          {"OTEL_TRACES_EXPORTER", "zipkin"}}) {
    absl::StatusOr<TracingConfig> c =
        FromEnv({{"OTEL_EXPORTER_OTLP_ENDPOINT", endpoint}, {var, value}});
    ASSERT_FALSE(c.ok()) << var;
    EXPECT_NE(std::string(c.status().message()).find(var.substr(0, 20)), std::string::npos)
        << c.status();
  }
  EXPECT_FALSE(FromEnv({{"OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://c"}}).ok());
}

TEST(TracingConfigTest, KeyValueListDecoding) {
  auto kv = ParseKeyValueList(" a = 1 ,b=x%3Dy,, c=");
  ASSERT_TRUE(kv.ok());
  ASSERT_EQ(kv->size(), 3u);
  EXPECT_EQ((*kv)[0], std::make_pair(std::string("a"), std::string("1")));
  EXPECT_EQ((*kv)[1].second, "x=y");
  EXPECT_EQ((*kv)[2].second, "");
  EXPECT_FALSE(ParseKeyValueList("=v").ok());
}

}  // namespace
}  // namespace latentbus::telemetry
