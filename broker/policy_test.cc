#include "broker/policy.h"

#include <gtest/gtest.h>

namespace latentbus::broker {
namespace {

class FixedBridge final : public Bridge {
 public:
  FixedBridge(std::string id, ModelKey src, ModelKey dst, double cosine,
              std::map<std::string, double> more = {}) {
    info_.id = std::move(id);
    info_.src = std::move(src);
    info_.dst = std::move(dst);
    info_.fidelity = std::move(more);
    if (cosine >= 0) info_.fidelity[kFidelityCosine] = cosine;
  }
  const BridgeInfo& info() const override { return info_; }
  absl::StatusOr<std::vector<codec::Tensor>> Apply(
      absl::Span<const codec::Tensor* const>) const override {
    return absl::UnimplementedError("not used");
  }

 private:
  BridgeInfo info_;
};

v1::ModelSpec Spec(const std::string& id) {
  v1::ModelSpec s;
  s.set_model_id(id);
  s.set_fingerprint("fp");
  return s;
}

class PolicyTest : public ::testing::Test {
 protected:
  void Add(const std::string& src, const std::string& dst, double cosine,
           std::map<std::string, double> more = {}) {
    ASSERT_TRUE(
        bridges_
            .Add(std::make_shared<FixedBridge>(src + ">" + dst, ModelKey{src, "fp"},
                                               ModelKey{dst, "fp"}, cosine, std::move(more)),
                 false)
            .ok());
  }
  BridgeRegistry bridges_;
  v1::ModelSpec smol_ = Spec("smol"), gemma_ = Spec("gemma"), qwen_ = Spec("qwen");
};

TEST_F(PolicyTest, DefaultPolicy) {
  Policy policy(PolicyConfig{}, &bridges_);
  Add("smol", "gemma", 0.95);
  Add("smol", "qwen", 0.5);
  Decision d = policy.Decide(v1::MESSAGE_CLASS_CONTEXT, &smol_, gemma_, false, true);
  EXPECT_EQ(d.form, v1::PAYLOAD_FORM_LATENT);
  EXPECT_EQ(d.bridge->info().id, "smol>gemma");
  EXPECT_DOUBLE_EQ(d.fidelity, 0.95);
  EXPECT_FALSE(d.needs_text);

  d = policy.Decide(v1::MESSAGE_CLASS_REASONING, &smol_, gemma_, true, true);
  EXPECT_EQ(d.form, v1::PAYLOAD_FORM_TEXT);
  EXPECT_EQ(d.reason, "policy:reasoning");

  d = policy.Decide(v1::MESSAGE_CLASS_CONTEXT, &smol_, qwen_, false, true);
  EXPECT_EQ(d.reason, "fidelity_below_threshold");
  EXPECT_TRUE(d.needs_text);

  d = policy.Decide(v1::MESSAGE_CLASS_CONTEXT, &smol_, smol_, true, true);  // no self bridge
  EXPECT_EQ(d.reason, "no_bridge");
  EXPECT_FALSE(d.needs_text);

  d = policy.Decide(v1::MESSAGE_CLASS_CONTEXT, nullptr, gemma_, true, false);
  EXPECT_EQ(d.reason, "no_latent");
}

TEST_F(PolicyTest, RulesPerClassAndPairFirstMatchWins) {
  PolicyConfig config;
  config.min_fidelity = 0.9;
  config.rules = {
      {"reasoning", "smol", "gemma", "latent", 0.4, ""},  // this pair is trusted for reasoning
      {"reasoning", "*", "*", "text", -1, ""},
      {"*", "*", "qwen", "latent", 0.3, ""},
      {"control", "*", "*", "text", -1, ""},
  };
  Policy policy(config, &bridges_);
  Add("smol", "gemma", 0.5);
  Add("smol", "qwen", 0.5);
  EXPECT_EQ(policy.Decide(v1::MESSAGE_CLASS_REASONING, &smol_, gemma_, false, true).form,
            v1::PAYLOAD_FORM_LATENT);
  EXPECT_EQ(policy.Decide(v1::MESSAGE_CLASS_REASONING, &smol_, qwen_, true, true).form,
            v1::PAYLOAD_FORM_TEXT);
  EXPECT_EQ(policy.Decide(v1::MESSAGE_CLASS_CONTEXT, &smol_, qwen_, false, true).form,
            v1::PAYLOAD_FORM_LATENT);  // per-pair threshold 0.3
  EXPECT_EQ(policy.Decide(v1::MESSAGE_CLASS_CONTEXT, &smol_, gemma_, true, true).reason,
            "fidelity_below_threshold");  // default threshold 0.9
  EXPECT_EQ(policy.Decide(v1::MESSAGE_CLASS_CONTROL, &smol_, gemma_, true, true).reason,
            "policy:control");
}

TEST_F(PolicyTest, BridgeWithoutRecordedCosineNeverCarriesLatents) {
  Policy policy(PolicyConfig{}, &bridges_);
  Add("smol", "gemma", -1);
  EXPECT_EQ(policy.Decide(v1::MESSAGE_CLASS_CONTEXT, &smol_, gemma_, true, true).reason,
            "fidelity_below_threshold");
}

TEST_F(PolicyTest, TheMetricIsConfigurablePerPolicyAndPerRule) {
  // A trained bridge: low embedding cosine, high agreement with the text-reading receiver.
  Add("smol", "gemma", 0.6, {{"ask_agreement", 0.92}});
  Add("smol", "qwen", 0.95, {{"ask_agreement", 0.5}});
  // auto (the default): ask_agreement where recorded, against its default threshold 0.6.
  Policy automatic(PolicyConfig{}, &bridges_);
  Decision a = automatic.Decide(v1::MESSAGE_CLASS_CONTEXT, &smol_, gemma_, true, true);
  EXPECT_EQ(a.form, v1::PAYLOAD_FORM_LATENT);
  EXPECT_DOUBLE_EQ(a.fidelity, 0.92);
  a = automatic.Decide(v1::MESSAGE_CLASS_CONTEXT, &smol_, qwen_, true, true);
  EXPECT_EQ(a.reason, "fidelity_below_threshold");  // 0.5 < 0.6, whatever its cosine
  EXPECT_DOUBLE_EQ(a.fidelity, 0.5);
  PolicyConfig by_agreement;
  by_agreement.metric = "ask_agreement";
  by_agreement.min_fidelity = 0.9;
  Policy policy(by_agreement, &bridges_);
  Decision d = policy.Decide(v1::MESSAGE_CLASS_CONTEXT, &smol_, gemma_, true, true);
  EXPECT_EQ(d.form, v1::PAYLOAD_FORM_LATENT);
  EXPECT_DOUBLE_EQ(d.fidelity, 0.92);
  EXPECT_EQ(policy.Decide(v1::MESSAGE_CLASS_CONTEXT, &smol_, qwen_, true, true).reason,
            "fidelity_below_threshold");
  // A rule names its own metric; a metric the artifact lacks scores -1.
  PolicyConfig per_rule;
  per_rule.rules = {{"*", "*", "gemma", "latent", 0.9, "ask_agreement"},
                    {"*", "*", "qwen", "latent", 0.9, "restate_recall"}};
  Policy rules(per_rule, &bridges_);
  EXPECT_EQ(rules.Decide(v1::MESSAGE_CLASS_CONTEXT, &smol_, gemma_, true, true).form,
            v1::PAYLOAD_FORM_LATENT);
  d = rules.Decide(v1::MESSAGE_CLASS_CONTEXT, &smol_, qwen_, true, true);
  EXPECT_EQ(d.reason, "fidelity_below_threshold");
  EXPECT_DOUBLE_EQ(d.fidelity, -1);
}

TEST(BridgeVerdictTest, SaysWhatTheBrokerWillDo) {
  BridgeVerdict trained = JudgeBridge({{"ask_agreement", 0.55}, {"cosine", 0.97}}, "auto", -1);
  EXPECT_EQ(trained.metric, "ask_agreement");
  EXPECT_DOUBLE_EQ(trained.threshold, 0.6);
  EXPECT_FALSE(trained.carries_latents);
  EXPECT_NE(trained.Describe().find("0.55 < 0.6: latents through it go as text"), std::string::npos)
      << trained.Describe();
  BridgeVerdict fitted = JudgeBridge({{"cosine", 0.93}}, "auto", -1);
  EXPECT_EQ(fitted.metric, "cosine");
  EXPECT_TRUE(fitted.carries_latents) << fitted.Describe();
  BridgeVerdict missing = JudgeBridge({{"cosine", 0.93}}, "restate_recall", 0.5);
  EXPECT_FALSE(missing.carries_latents);
  EXPECT_NE(missing.Describe().find("no restate_recall recorded"), std::string::npos);
}

}  // namespace
}  // namespace latentbus::broker
