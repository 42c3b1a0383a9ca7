#include "broker/translator.h"

#include <gtest/gtest.h>

#include <cmath>

namespace latentbus::broker {
namespace {

// Test double: y = 2x on the first dst_dim columns (dst_dim <= src_dim).
class DoublingBridge final : public Bridge {
 public:
  DoublingBridge(uint32_t src_dim, uint32_t dst_dim) {
    info_.id = "double";
    info_.src = {"src", "fs"};
    info_.dst = {"dst", "fd"};
    info_.src_dim = src_dim;
    info_.dst_dim = dst_dim;
  }
  const BridgeInfo& info() const override { return info_; }
  absl::StatusOr<std::vector<codec::Tensor>> Apply(
      absl::Span<const codec::Tensor* const> batch) const override {
    ++calls;
    std::vector<codec::Tensor> out;
    for (const codec::Tensor* input : batch) {
      const codec::Tensor& in = *input;
      codec::Tensor t;
      t.shape = {static_cast<uint32_t>(in.rows()), info_.dst_dim};
      for (size_t r = 0; r < in.rows(); ++r) {
        for (size_t c = 0; c < info_.dst_dim; ++c)
          t.data.push_back(2 * in.data[r * in.width() + c]);
      }
      out.push_back(std::move(t));
    }
    return out;
  }
  mutable int calls = 0;

 private:
  BridgeInfo info_;
};

// As validation hands latents over: the header without its payload, the values decoded.
AcceptedLatent SourceLatent(uint32_t rows, uint32_t width, float scale) {
  AcceptedLatent a;
  a.values.shape = {rows, width};
  for (uint32_t i = 0; i < rows * width; ++i) a.values.data.push_back(scale * std::cos(0.1f * i));
  a.header = *codec::Encode(a.values, *codec::ParseEncoding("int4/g32"));
  a.header.payload.clear();  // the translator must not need it: nothing decodes it again
  a.header.model_id = "src";
  a.header.model_fingerprint = "fs";
  a.header.space = codec::Space::kHidden;
  return a;
}

TEST(BridgeTranslatorTest, AppliesOnceToTheDecodedValuesAndEncodesInTheTargetEncoding) {
  DoublingBridge bridge(64, 32);
  const AcceptedLatent p1 = SourceLatent(3, 64, 1.0f);
  const AcceptedLatent p2 = SourceLatent(5, 64, 0.5f);
  TranslationTarget target{{"dst", "fd"}, 32, *codec::ParseEncoding("int8/g32")};
  BridgeTranslator translator;
  std::vector<const AcceptedLatent*> batch = {&p1, &p2};
  absl::StatusOr<std::vector<codec::Packet>> out = translator.Translate(bridge, batch, target);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(bridge.calls, 1);  // one Apply for the whole batch
  ASSERT_EQ(out->size(), 2u);
  // The batch is split back per packet: the first keeps its 3 rows and values.
  const codec::Packet& first = (*out)[0];
  EXPECT_EQ(first.shape, (std::vector<uint32_t>{3, 32}));
  codec::Tensor first_decoded = *codec::Decode(first);
  EXPECT_NEAR(first_decoded.data[1], 2 * std::cos(0.1f), 0.02f);
  EXPECT_NEAR(first_decoded.data[32], 2 * std::cos(0.1f * 64), 0.02f);
  const codec::Packet& q = (*out)[1];
  EXPECT_EQ(q.model_id, "dst");
  EXPECT_EQ(q.model_fingerprint, "fd");
  EXPECT_EQ(q.space, codec::Space::kInputEmbedding);
  EXPECT_EQ(q.shape, (std::vector<uint32_t>{5, 32}));
  EXPECT_EQ(q.encoding, target.encoding);
  ASSERT_TRUE(codec::ValidatePacket(q).ok());
  codec::Tensor decoded = *codec::Decode(q);
  EXPECT_NEAR(decoded.data[1], 2 * 0.5f * std::cos(0.1f), 0.01f);
  EXPECT_NEAR(decoded.data[32], 2 * 0.5f * std::cos(0.1f * 64), 0.01f);  // row 1 starts at 64
}

TEST(BridgeTranslatorTest, RefusesMismatchedModelsAndShapes) {
  DoublingBridge bridge(64, 32);
  BridgeTranslator translator;
  const AcceptedLatent p = SourceLatent(2, 64, 1);
  TranslationTarget wrong_dst{{"other", "fd"}, 32, codec::DefaultEncoding()};
  std::vector<const AcceptedLatent*> batch = {&p};
  EXPECT_FALSE(translator.Translate(bridge, batch, wrong_dst).ok());
  TranslationTarget wrong_width{{"dst", "fd"}, 40, codec::DefaultEncoding()};
  EXPECT_FALSE(translator.Translate(bridge, batch, wrong_width).ok());
  const AcceptedLatent narrow = SourceLatent(2, 48, 1);
  std::vector<const AcceptedLatent*> bad = {&narrow};
  TranslationTarget ok{{"dst", "fd"}, 32, codec::DefaultEncoding()};
  EXPECT_FALSE(translator.Translate(bridge, bad, ok).ok());
}

}  // namespace
}  // namespace latentbus::broker
