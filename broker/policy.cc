#include "broker/policy.h"

#include "absl/strings/str_cat.h"
#include "broker/glob.h"

namespace latentbus::broker {

std::string BridgeVerdict::Describe() const {
  if (score < 0) {
    return absl::StrCat("no ", metric, " recorded (the policy needs >= ", threshold,
                        "): latents through it go as text");
  }
  return carries_latents
             ? absl::StrCat(metric, " ", score, " >= ", threshold, ": carries latents")
             : absl::StrCat(metric, " ", score, " < ", threshold,
                            ": latents through it go as text (policy.metric / min_fidelity)");
}

BridgeVerdict JudgeBridge(const std::map<std::string, double>& fidelity, std::string metric,
                          double min_fidelity) {
  BridgeVerdict v;
  if (metric == "auto") {
    metric = fidelity.count(kFidelityAskAgreement) ? kFidelityAskAgreement : kFidelityCosine;
  }
  v.threshold = min_fidelity >= 0 ? min_fidelity : DefaultThreshold(metric);
  auto it = fidelity.find(metric);
  v.score = it == fidelity.end() ? -1 : it->second;
  v.metric = std::move(metric);
  v.carries_latents = v.score >= 0 && v.score >= v.threshold;
  return v;
}

std::string MessageClassName(v1::MessageClass message_class) {
  switch (message_class) {
    case v1::MESSAGE_CLASS_REASONING:
      return "reasoning";
    case v1::MESSAGE_CLASS_INSTRUCTION:
      return "instruction";
    case v1::MESSAGE_CLASS_RESULT:
      return "result";
    case v1::MESSAGE_CLASS_CONTROL:
      return "control";
    default:
      return "context";
  }
}

Policy::Policy(PolicyConfig config, const BridgeRegistry* bridges)
    : config_(std::move(config)), bridges_(bridges) {}

Decision Policy::Decide(v1::MessageClass message_class, const v1::ModelSpec* src,
                        const v1::ModelSpec& dst, bool has_text, bool has_latent) const {
  Decision d;
  auto text = [&](std::string reason) {
    d.form = v1::PAYLOAD_FORM_TEXT;
    d.reason = std::move(reason);
    d.bridge.reset();
    d.needs_text = !has_text;
    return d;
  };
  if (!has_latent || src == nullptr) return text("no_latent");
  if (dst.model_id().empty()) return text("receiver_text_only");
  const std::string class_name = MessageClassName(message_class);
  const PolicyRule* rule = nullptr;
  for (const PolicyRule& r : config_.rules) {
    if ((r.message_class == "*" || r.message_class == class_name) &&
        GlobMatch(r.src_model, src->model_id()) && GlobMatch(r.dst_model, dst.model_id())) {
      rule = &r;
      break;
    }
  }
  if (rule != nullptr && rule->form == "text") return text("policy:" + class_name);
  std::shared_ptr<const Bridge> bridge = bridges_->Find(
      ModelKey{src->model_id(), src->fingerprint()}, ModelKey{dst.model_id(), dst.fingerprint()});
  if (!bridge) return text("no_bridge");
  const BridgeVerdict verdict = JudgeBridge(
      bridge->info().fidelity,
      rule != nullptr && !rule->metric.empty() ? rule->metric : config_.metric,
      rule != nullptr && rule->min_fidelity >= 0 ? rule->min_fidelity : config_.min_fidelity);
  d.fidelity = verdict.score;
  if (!verdict.carries_latents) return text("fidelity_below_threshold");
  d.form = v1::PAYLOAD_FORM_LATENT;
  d.reason.clear();
  d.bridge = std::move(bridge);
  return d;
}

BridgeVerdict Policy::JudgeDefault(const BridgeInfo& bridge) const {
  return JudgeBridge(bridge.fidelity, config_.metric, config_.min_fidelity);
}

}  // namespace latentbus::broker
