#include "a2a/json_rpc.h"

#include "gtest/gtest.h"
#include "proto/error_reason.h"

namespace latentbus::a2a {
namespace {

using nlohmann::json;

TEST(JsonRpcTest, ParsesARequestAndRefusesWhatIsNotOne) {
  RpcError error;
  json id;
  std::optional<RpcRequest> r = ParseRequest(
      R"({"jsonrpc":"2.0","id":"7","method":"GetTask","params":{"id":"t"}})", &error, &id);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->id, "7");
  EXPECT_EQ(r->method, "GetTask");
  EXPECT_EQ(r->params["id"], "t");

  EXPECT_FALSE(ParseRequest("{not json", &error, &id));
  EXPECT_EQ(error.code, kParseError);
  EXPECT_TRUE(id.is_null());
  EXPECT_FALSE(ParseRequest(R"([{"jsonrpc":"2.0","method":"x"}])", &error, &id));
  EXPECT_EQ(error.code, kInvalidRequest);
  EXPECT_FALSE(ParseRequest(R"({"jsonrpc":"1.0","id":3,"method":"x"})", &error, &id));
  EXPECT_EQ(error.code, kInvalidRequest);
  EXPECT_EQ(id, 3);  // echoed even in the error
  EXPECT_FALSE(ParseRequest(R"({"jsonrpc":"2.0","id":3,"method":"x","params":[1]})", &error, &id));
  EXPECT_EQ(error.code, kInvalidParams);
  r = ParseRequest(R"({"jsonrpc":"2.0","id":{"o":1},"method":"x"})", &error, &id);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->id.is_null());  // an id must be a string or a number
  EXPECT_TRUE(r->params.is_object());
}

TEST(JsonRpcTest, ErrorsCarryTheReasonAsErrorInfo) {
  const json e = ErrorObject("1", {kTaskNotFound, "no task t", "NOT_FOUND"});
  EXPECT_EQ(e["jsonrpc"], "2.0");
  EXPECT_EQ(e["id"], "1");
  EXPECT_EQ(e["error"]["code"], -32001);
  EXPECT_EQ(e["error"]["data"][0]["@type"], "type.googleapis.com/google.rpc.ErrorInfo");
  EXPECT_EQ(e["error"]["data"][0]["reason"], "NOT_FOUND");
  EXPECT_FALSE(ErrorObject(nullptr, {kInternalError, "x", ""})["error"].contains("data"));
  EXPECT_EQ(ResultObject(2, {{"a", 1}})["result"]["a"], 1);
}

TEST(JsonRpcTest, OnlyProtocolOneZeroIsSpoken) {
  EXPECT_TRUE(VersionSupported("1.0"));
  EXPECT_TRUE(VersionSupported("1.0.3"));
  EXPECT_FALSE(VersionSupported(""));  // no header: 0.3
  EXPECT_FALSE(VersionSupported("0.3"));
  EXPECT_FALSE(VersionSupported("1.1"));
  EXPECT_FALSE(VersionSupported("1.01"));
}

TEST(JsonRpcTest, TaskStoreStatusesMapToTheProtocolsCodes) {
  EXPECT_EQ(ErrorFromStatus(absl::NotFoundError("x")).code, kTaskNotFound);
  EXPECT_EQ(ErrorFromStatus(absl::FailedPreconditionError("x")).code, kTaskNotCancelable);
  EXPECT_EQ(ErrorFromStatus(absl::InvalidArgumentError("x")).code, kInvalidParams);
  const RpcError full = ErrorFromStatus(wire::ReasonError(v1::QUEUE_FULL, "full"));
  EXPECT_EQ(full.reason, "QUEUE_FULL");
  EXPECT_EQ(full.code, kInternalError);
}

}  // namespace
}  // namespace latentbus::a2a
