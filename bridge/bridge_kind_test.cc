#include "bridge/bridge_kind.h"

#include <gtest/gtest.h>

namespace latentbus::bridge {
namespace {

TEST(BridgeKindTest, EveryKindIsFoundByItsNameAndUnknownOnesAreListed) {
  for (const BridgeKindSpec& k : BridgeKinds()) {
    absl::StatusOr<BridgeKindSpec> found = FindBridgeKind(k.name);
    ASSERT_TRUE(found.ok()) << k.name;
    EXPECT_EQ(found->kind, k.kind);
  }
  absl::StatusOr<BridgeKindSpec> bad = FindBridgeKind("telepathy");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("known: self, affine, procrustes, adapter, resampler"),
            std::string::npos)
      << bad.status();
  EXPECT_EQ(FittableBridgeKinds(), (std::vector<std::string>{"self", "affine", "procrustes"}));
  EXPECT_TRUE(FindBridgeKind("procrustes")->linear);
  EXPECT_FALSE(FindBridgeKind("adapter")->linear);
}

}  // namespace
}  // namespace latentbus::bridge
