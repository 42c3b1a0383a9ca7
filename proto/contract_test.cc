// Checks the evolution guarantees the wire contract promises: unknown fields and
// enum values from newer peers survive a parse/serialize relay, and the service
// surface has the shape clients rely on.
#include <gtest/gtest.h>

#include "google/protobuf/unknown_field_set.h"
#include "latentbus/v1/broker.grpc.pb.h"
#include "latentbus/v1/broker.pb.h"

namespace latentbus::v1 {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::ServiceDescriptor;

TEST(ContractTest, UnknownFieldsFromNewerPeerSurviveRelay) {
  Envelope env;
  env.set_message_id("m1");
  env.set_text("hello");
  std::string wire = env.SerializeAsString();
  // Field 40, varint 7: something a future version might add. Its tag, (40 << 3) | 0 =
  // 320, is itself a varint of two bytes (a single byte would be field 8).
  wire.push_back(static_cast<char>(0xC0));
  wire.push_back(static_cast<char>(0x02));
  wire.push_back(7);

  Envelope relayed;
  ASSERT_TRUE(relayed.ParseFromString(wire));
  EXPECT_EQ(relayed.message_id(), "m1");
  const google::protobuf::UnknownFieldSet& unknown =
      relayed.GetReflection()->GetUnknownFields(relayed);
  ASSERT_EQ(unknown.field_count(), 1);
  EXPECT_EQ(unknown.field(0).number(), 40);
  EXPECT_EQ(unknown.field(0).varint(), 7u);
  Envelope again;
  ASSERT_TRUE(again.ParseFromString(relayed.SerializeAsString()));
  EXPECT_EQ(again.SerializeAsString(), wire) << "unknown field dropped by a relay";
}

TEST(ContractTest, UnknownEnumValuesAreKeptAndDetectable) {
  Error err;
  err.set_reason(static_cast<ErrorReason>(99));
  Error parsed;
  ASSERT_TRUE(parsed.ParseFromString(err.SerializeAsString()));
  EXPECT_EQ(static_cast<int>(parsed.reason()), 99);
  EXPECT_FALSE(ErrorReason_IsValid(parsed.reason()));
  EXPECT_TRUE(ErrorReason_IsValid(NEEDS_TEXT));
}

TEST(ContractTest, RequiredErrorReasonsExist) {
  for (const char* name : {"NEEDS_TEXT", "NO_ROUTE", "UNAUTHENTICATED", "PERMISSION_DENIED",
                           "INVALID_PACKET", "QUEUE_FULL", "DEADLINE_EXCEEDED"}) {
    ErrorReason value;
    EXPECT_TRUE(ErrorReason_Parse(name, &value)) << name;
    EXPECT_NE(value, ERROR_REASON_UNSPECIFIED) << name;
  }
}

TEST(ContractTest, BrokerServiceShape) {
  const ServiceDescriptor* svc =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          Broker::service_full_name());
  ASSERT_NE(svc, nullptr);
  ASSERT_EQ(svc->full_name(), "latentbus.v1.Broker");
  const auto* connect = svc->FindMethodByName("Connect");
  ASSERT_NE(connect, nullptr);
  EXPECT_TRUE(connect->client_streaming());
  EXPECT_TRUE(connect->server_streaming());
  for (const char* unary : {"Publish", "RouteQuery", "ListAgents", "ListBridges", "LoadBridge",
                            "UnloadBridge", "GetStats"}) {
    const auto* m = svc->FindMethodByName(unary);
    ASSERT_NE(m, nullptr) << unary;
    EXPECT_FALSE(m->client_streaming() || m->server_streaming()) << unary;
  }
}

TEST(ContractTest, FramesCoverTheStreamVocabulary) {
  const Descriptor* agent = AgentFrame::descriptor();
  for (const char* f : {"register", "subscribe", "unsubscribe", "send", "ack", "credit"}) {
    EXPECT_NE(agent->FindFieldByName(f), nullptr) << "AgentFrame." << f;
  }
  const Descriptor* broker = BrokerFrame::descriptor();
  for (const char* f : {"registered", "deliver", "send_result", "error", "credit"}) {
    EXPECT_NE(broker->FindFieldByName(f), nullptr) << "BrokerFrame." << f;
  }
}

TEST(ContractTest, ExtensionRoomIsReserved) {
  for (const Descriptor* d :
       {LatentPacket::descriptor(), ModelSpec::descriptor(), Envelope::descriptor(),
        AgentFrame::descriptor(), BrokerFrame::descriptor()}) {
    EXPECT_GT(d->reserved_range_count(), 0) << d->full_name();
  }
}

}  // namespace
}  // namespace latentbus::v1
