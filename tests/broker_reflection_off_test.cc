// `reflection: false` leaves gRPC server reflection off. A binary of its own: gRPC's
// reflection plugin is process-wide, so once any server in a process turned it on,
// every server built after it would have it.
#include <gtest/gtest.h>

#include "tests/broker_harness.h"

namespace latentbus::testing {
namespace {

TEST(BrokerReflectionTest, OffWhenConfiguredOff) {
  broker::BrokerConfig off = TestConfig();
  off.reflection = false;
  {
    TestBroker broker(off);
    EXPECT_EQ(ReflectionListServices(broker.Channel()), "");
  }
  // The same check sees reflection once it is on: the empty answer above was the setting.
  TestBroker broker(TestConfig());
  EXPECT_NE(ReflectionListServices(broker.Channel()).find("latentbus.v1.Broker"),
            std::string::npos);
}

}  // namespace
}  // namespace latentbus::testing
