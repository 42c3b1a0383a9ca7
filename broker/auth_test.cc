#include "broker/auth.h"

#include <gtest/gtest.h>

#include "broker/errors.h"

namespace latentbus::broker {
namespace {

TEST(AuthTest, DisabledWithoutTokensAllowsEverything) {
  Authenticator auth({});
  EXPECT_FALSE(auth.enabled());
  auto p = auth.Authenticate("");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE((*p)->MayActAs("anyone"));
  EXPECT_TRUE((*p)->MayPublish("any.topic"));
  EXPECT_TRUE((*p)->IsAdmin());
}

TEST(AuthTest, BearerTokensMapToPrincipalsWithAcls) {
  TokenConfig t;
  t.name = "planner";
  t.token = "0123456789";
  t.agents = {"planner-*"};
  t.publish = {"tasks.*"};
  t.subscribe = {"results.*"};
  Authenticator auth({t});
  ASSERT_TRUE(auth.enabled());
  for (const char* bad : {"", "0123456789", "Bearer", "Bearer wrong-token", "Basic 0123456789"}) {
    auto p = auth.Authenticate(bad);
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(ReasonOf(p.status()), v1::UNAUTHENTICATED) << bad;
  }
  auto p = auth.Authenticate("Bearer 0123456789");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)->name, "planner");
  EXPECT_TRUE((*p)->MayActAs("planner-1"));
  EXPECT_FALSE((*p)->MayActAs("coder-1"));
  EXPECT_TRUE((*p)->MayPublish("tasks.a"));
  EXPECT_FALSE((*p)->MayPublish("results.a"));
  EXPECT_TRUE((*p)->MaySubscribe("results.a"));
  EXPECT_FALSE((*p)->IsAdmin());
  EXPECT_TRUE(auth.Authenticate("bearer 0123456789").ok());  // scheme is case-insensitive
}

}  // namespace
}  // namespace latentbus::broker
