// The text/latent policy: for one message and one recipient, which form to deliver.
//
// Rules come from configuration (broker/config.h PolicyConfig), are keyed by message
// class and by (src model, dst model) globs, and the first match wins. With form
// "text" the recipient gets text (reason "policy:<class>"). With form "latent", or
// when no rule matches, a latent goes through only when the bridge registry holds a
// bridge for (sender model, receiver model) whose recorded fidelity[metric] (the rule's
// metric, else the policy's; "auto": ask_agreement when recorded, else cosine) meets the
// threshold (the rule's, else the policy's, else the metric's default) (else text, reason
// "no_bridge" / "fidelity_below_threshold"). An envelope without a latent always goes as text
// ("no_latent"). There is no implicit self bridge: a receiver on the sender's own model also needs
// a (self) bridge.
//
// Thread safety: immutable after construction; reads the (thread-safe) registry.
#ifndef LATENTBUS_BROKER_POLICY_H_
#define LATENTBUS_BROKER_POLICY_H_

#include <map>
#include <memory>
#include <string>

#include "broker/bridge.h"
#include "broker/bridge_registry.h"
#include "broker/config.h"
#include "latentbus/v1/envelope.pb.h"
#include "latentbus/v1/model.pb.h"

namespace latentbus::broker {

struct Decision {
  v1::PayloadForm form = v1::PAYLOAD_FORM_TEXT;
  std::string reason;                    // empty for latents
  std::shared_ptr<const Bridge> bridge;  // set for latents
  double fidelity = 0;                   // the bridge's score on the metric, when there is one
  bool needs_text = false;               // text chosen but the envelope has none
};

// How the policy judges a bridge by its recorded figures: the metric in effect ("auto"
// resolved), the threshold, the bridge's score (-1 when not recorded) and the verdict.
struct BridgeVerdict {
  std::string metric;
  double threshold = 0;
  double score = -1;
  bool carries_latents = false;
  // "ask_agreement 0.55 < 0.6: latents through it go as text" (or ">= ...: carries latents").
  std::string Describe() const;
};
// `metric` "auto" or a figure's name; `min_fidelity` < 0: the metric's default threshold.
BridgeVerdict JudgeBridge(const std::map<std::string, double>& fidelity, std::string metric,
                          double min_fidelity);

// "context", "reasoning", ... (UNSPECIFIED and unknown values count as context).
std::string MessageClassName(v1::MessageClass message_class);

class Policy {
 public:
  Policy(PolicyConfig config, const BridgeRegistry* bridges);

  // `src` is the sender's model (may be null when the envelope has no latent).
  Decision Decide(v1::MessageClass message_class, const v1::ModelSpec* src,
                  const v1::ModelSpec& dst, bool has_text, bool has_latent) const;

  // The verdict on `bridge` for messages no rule matches (the policy's own metric and
  // threshold): what the broker warns about when a bridge is loaded.
  BridgeVerdict JudgeDefault(const BridgeInfo& bridge) const;

 private:
  const PolicyConfig config_;
  const BridgeRegistry* const bridges_;
};

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_POLICY_H_
