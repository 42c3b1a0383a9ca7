// Authentication, authorization and TLS/mTLS against a real broker on loopback.
// Certificates are generated at test time with the openssl CLI.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "tests/broker_harness.h"

namespace latentbus::testing {
namespace {

using v1::BrokerFrame;

const v1::ModelSpec kSpec = MakeSpec("smollm2", 64, 48);
constexpr char kAliceToken[] = "alice-secret-token";
constexpr char kAdminToken[] = "admin-secret-token";

broker::BrokerConfig AuthConfig() {
  broker::BrokerConfig config = TestConfig();
  broker::TokenConfig alice;
  alice.name = "alice";
  alice.token = kAliceToken;
  alice.agents = {"alice*"};
  alice.publish = {"news.*"};
  alice.subscribe = {"news.*"};
  broker::TokenConfig admin;
  admin.name = "ops";
  admin.token = kAdminToken;
  admin.agents = {"*"};
  admin.publish = {"*"};
  admin.subscribe = {"*"};
  admin.admin = true;
  config.tokens = {alice, admin};
  return config;
}

double Rejects(TestBroker& broker, const char* reason) {
  return broker.broker().metrics().CounterValue("latentbus_rejects_total", {{"reason", reason}});
}

TEST(BrokerSecurityTest, StreamWithoutOrWithWrongTokenIsUnauthenticated) {
  TestBroker broker(AuthConfig());
  TestAgent none(broker.Channel());
  EXPECT_FALSE(none.Register("alice", kSpec).ok());
  EXPECT_EQ(none.AwaitEnd().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  TestAgent wrong(broker.Channel(), "not-a-real-token");
  EXPECT_FALSE(wrong.Register("alice", kSpec).ok());
  EXPECT_EQ(wrong.AwaitEnd().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Rejects(broker, "UNAUTHENTICATED"), 2);
}

TEST(BrokerSecurityTest, TokenMayRegisterOnlyItsAgentIds) {
  TestBroker broker(AuthConfig());
  TestAgent ok(broker.Channel(), kAliceToken);
  EXPECT_TRUE(ok.Register("alice-1", kSpec).ok());
  TestAgent denied(broker.Channel(), kAliceToken);
  EXPECT_FALSE(denied.Register("bob", kSpec).ok());
  EXPECT_EQ(denied.AwaitEnd().error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Rejects(broker, "PERMISSION_DENIED"), 1);
}

TEST(BrokerSecurityTest, TopicAclsApplyToSubscribeAndPublish) {
  TestBroker broker(AuthConfig());
  TestAgent alice(broker.Channel(), kAliceToken);
  ASSERT_TRUE(alice.Register("alice", kSpec, {"news.tech"}).ok());
  TestAgent ops(broker.Channel(), kAdminToken);
  ASSERT_TRUE(ops.Register("ops", kSpec, {"secret", "news.tech"}).ok());
  alice.Subscribe("secret");
  std::optional<BrokerFrame> f = alice.NextOf(BrokerFrame::kError);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->error().reason(), v1::PERMISSION_DENIED);
  alice.Send(ToTopic("m1", "secret", "leak"));
  f = alice.NextOf(BrokerFrame::kError);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->error().reason(), v1::PERMISSION_DENIED);
  alice.Send(ToTopic("m2", "news.tech", "allowed"));
  ASSERT_TRUE(alice.NextOf(BrokerFrame::kSendResult));
  f = ops.NextOf(BrokerFrame::kDeliver);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->deliver().envelope().message_id(), "m2");
}

TEST(BrokerSecurityTest, UnaryRpcsCheckTokensAndAdmin) {
  TestBroker broker(AuthConfig());
  auto stub = broker.Stub();
  {
    grpc::ClientContext ctx;
    v1::ListAgentsResponse resp;
    EXPECT_EQ(stub->ListAgents(&ctx, {}, &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", absl::StrCat("Bearer ", kAliceToken));
    v1::ListAgentsResponse resp;
    EXPECT_EQ(stub->ListAgents(&ctx, {}, &resp).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", absl::StrCat("Bearer ", kAdminToken));
    v1::ListAgentsResponse resp;
    EXPECT_TRUE(stub->ListAgents(&ctx, {}, &resp).ok());
  }
  {
    grpc::ClientContext ctx;  // Publish as an agent id the token does not cover
    ctx.AddMetadata("authorization", absl::StrCat("Bearer ", kAliceToken));
    v1::PublishRequest req;
    *req.mutable_envelope() = ToTopic("p1", "news.x", "x");
    req.mutable_envelope()->set_sender_id("bob");
    v1::PublishResponse resp;
    EXPECT_EQ(stub->Publish(&ctx, req, &resp).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A throwaway CA, a server cert for 127.0.0.1/localhost and a client cert.
class Certs {
 public:
  Certs() {
    char tmpl[] = "/tmp/latentbus-tls-XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::string script = absl::StrCat(
        "cd ", dir_, " && set -e && ",
        "K='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes' && ",
        "openssl req -x509 $K -keyout ca.key -out ca.pem -days 1 -subj /CN=test-ca && ",
        "openssl req $K -keyout server.key -out server.csr -subj /CN=localhost && ",
        "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1' > san.ext && ",
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
        "-out server.pem -days 1 -extfile san.ext && ",
        "openssl req $K -keyout client.key -out client.csr -subj /CN=agent && ",
        "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
        "-out client.pem -days 1) >/dev/null 2>&1");
    ok_ = std::system(("(" + script).c_str()) == 0;
  }
  ~Certs() { std::system(("rm -rf " + dir_).c_str()); }
  bool ok() const { return ok_; }
  std::string path(const char* name) const { return dir_ + "/" + name; }

 private:
  std::string dir_;
  bool ok_ = false;
};

std::shared_ptr<grpc::Channel> TlsChannel(const TestBroker& broker, const Certs& certs,
                                          bool with_client_cert) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ReadAll(certs.path("ca.pem"));
  if (with_client_cert) {
    options.pem_private_key = ReadAll(certs.path("client.key"));
    options.pem_cert_chain = ReadAll(certs.path("client.pem"));
  }
  return grpc::CreateChannel(broker.address(), grpc::SslCredentials(options));
}

TEST(BrokerSecurityTest, MutualTlsAcceptsOnlyClientsWithACertificate) {
  Certs certs;
  ASSERT_TRUE(certs.ok()) << "openssl failed";
  broker::BrokerConfig config = TestConfig();
  config.tls.cert_file = certs.path("server.pem");
  config.tls.key_file = certs.path("server.key");
  config.tls.client_ca_file = certs.path("ca.pem");
  TestBroker broker(config);

  TestAgent good(TlsChannel(broker, certs, true));
  EXPECT_TRUE(good.Register("alice", kSpec).ok());

  TestAgent no_cert(TlsChannel(broker, certs, false));
  EXPECT_FALSE(no_cert.Register("bob", kSpec).ok());
  EXPECT_EQ(no_cert.AwaitEnd().error_code(), grpc::StatusCode::UNAVAILABLE);

  TestAgent plaintext(broker.Channel());
  EXPECT_FALSE(plaintext.Register("carol", kSpec).ok());
  EXPECT_EQ(plaintext.AwaitEnd().error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(broker.broker().registry().size(), 1u);
}

TEST(BrokerSecurityTest, ServerTlsWithoutClientCertificates) {
  Certs certs;
  ASSERT_TRUE(certs.ok()) << "openssl failed";
  broker::BrokerConfig config = TestConfig();
  config.tls.cert_file = certs.path("server.pem");
  config.tls.key_file = certs.path("server.key");
  TestBroker broker(config);
  TestAgent agent(TlsChannel(broker, certs, false));
  EXPECT_TRUE(agent.Register("alice", kSpec).ok());
}

TEST(BrokerSecurityTest, MissingTlsFilesFailToStart) {
  broker::BrokerConfig config = TestConfig();
  config.tls.cert_file = "/nonexistent/server.pem";
  config.tls.key_file = "/nonexistent/server.key";
  broker::BrokerOptions options;
  options.config = config;
  absl::StatusOr<std::unique_ptr<broker::BrokerServer>> server =
      broker::BrokerServer::Start(std::move(options));
  EXPECT_EQ(server.status().code(), absl::StatusCode::kNotFound) << server.status();
}

}  // namespace
}  // namespace latentbus::testing
