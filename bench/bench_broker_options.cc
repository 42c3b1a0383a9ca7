#include "bench/bench_broker_options.h"

#include "broker/artifact_bridge.h"

namespace latentbus::bench {

broker::BrokerOptions BenchBrokerOptions() {
  broker::BrokerOptions options;
  broker::BrokerConfig& c = options.config;
  c.listen_address = "127.0.0.1:0";
  c.metrics_address = "";
  c.log_level = "warn";
  c.limits.rate_per_second = 0;
  c.policy.rules = {broker::PolicyRule{"reasoning", "*", "*", "text", -1, ""},
                    broker::PolicyRule{"*", "*", "*", "latent", 0.0, ""}};
  options.bridge_loader = broker::ArtifactBridgeLoader();
  return options;
}

}  // namespace latentbus::bench
