#include "broker/policy.h"

#include "broker/glob.h"

namespace latentbus::broker {

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
  std::string metric = rule != nullptr && !rule->metric.empty() ? rule->metric : config_.metric;
  if (metric == "auto") {
    metric = bridge->info().fidelity.count(kFidelityAskAgreement) ? kFidelityAskAgreement
                                                                  : kFidelityCosine;
  }
  double threshold =
      rule != nullptr && rule->min_fidelity >= 0 ? rule->min_fidelity : config_.min_fidelity;
  if (threshold < 0) threshold = DefaultThreshold(metric);
  d.fidelity = bridge->info().Fidelity(metric);
  if (d.fidelity < threshold) return text("fidelity_below_threshold");
  d.form = v1::PAYLOAD_FORM_LATENT;
  d.reason.clear();
  d.bridge = std::move(bridge);
  return d;
}

}  // namespace latentbus::broker
