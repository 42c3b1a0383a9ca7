// The test fixture of the router's unit tests (router_test.cc, send_trace_test.cc): a
// Router wired as Broker wires it, with real components, recording sessions in place of
// gRPC streams, a bridge that is exact in fp32, and envelope builders. Test-only.
#ifndef LATENTBUS_BROKER_ROUTER_TEST_BUS_H_
#define LATENTBUS_BROKER_ROUTER_TEST_BUS_H_

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "broker/errors.h"
#include "broker/in_memory_delivery.h"
#include "broker/recording_session.h"
#include "broker/router.h"
#include "broker/translator.h"
#include "codec/packet_proto.h"
#include "codec/synthetic.h"
#include "google/protobuf/text_format.h"
#include "telemetry/tracer.h"

namespace latentbus::broker::test_bus {

using Strings = std::vector<std::string>;

// Keeps the first dst_dim columns of every row, negated (zeros past the source's width):
// exact in fp32, so a delivered latent can be compared value by value. Fails every call
// when `broken`.
class TruncatingBridge final : public Bridge {
 public:
  TruncatingBridge(const v1::ModelSpec& src, const v1::ModelSpec& dst, double cosine,
                   bool broken = false)
      : broken_(broken) {
    info_.id = src.model_id() + ">" + dst.model_id();
    info_.kind = "affine";
    info_.src = {src.model_id(), src.fingerprint()};
    info_.dst = {dst.model_id(), dst.fingerprint()};
    info_.src_dim = src.hidden_size();
    info_.dst_dim = dst.embedding_size();
    info_.fidelity[kFidelityCosine] = cosine;
  }
  const BridgeInfo& info() const override { return info_; }
  absl::StatusOr<std::vector<codec::Tensor>> Apply(
      absl::Span<const codec::Tensor* const> batch) const override {
    if (broken_) return absl::InternalError("the bridge broke");
    std::vector<codec::Tensor> out(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) {
      const uint32_t rows = static_cast<uint32_t>(batch[i]->rows());
      out[i].shape = {rows, info_.dst_dim};
      for (size_t k = 0; k < size_t{rows} * info_.dst_dim; ++k) {
        const size_t col = k % info_.dst_dim;
        out[i].data.push_back(
            col < info_.src_dim ? -batch[i]->data[k / info_.dst_dim * info_.src_dim + col] : 0.0f);
      }
    }
    return out;
  }

 private:
  BridgeInfo info_;
  const bool broken_;
};

inline v1::ModelSpec Model(const std::string& id, uint32_t hidden, uint32_t embedding) {
  v1::ModelSpec spec;
  const std::string text = "model_id: '" + id + "' fingerprint: 'fp-" + id +
                           "' hidden_size: " + std::to_string(hidden) +
                           " embedding_size: " + std::to_string(embedding) +
                           " tap_layer: 1 num_layers: 4 max_soft_tokens: 8"
                           " preferred_encoding { dtype: DTYPE_FP32 }";
  if (!google::protobuf::TextFormat::ParseFromString(text, &spec)) {  // runs before main
    std::fprintf(stderr, "bad ModelSpec text: %s\n", text.c_str());
    std::abort();
  }
  return spec;
}

inline const v1::ModelSpec kSrc = Model("src", 8, 8);
inline const v1::ModelSpec kDst = Model("dst", 6, 4);
inline const v1::ModelSpec kWeak = Model("weak", 6, 4);    // a bridge below the threshold
inline const v1::ModelSpec kOther = Model("other", 6, 4);  // no bridge from src
inline const v1::ModelSpec kWide = Model("wide", 6, 512);  // its latents are 64x src's
inline const v1::ModelSpec kTextOnly;                      // registered without a model

// `e` with `rows` soft tokens in `spec`'s hidden space at its tap layer (fp32, so exact);
// `sent`, when given, receives the values.
inline v1::Envelope WithLatent(v1::Envelope e, const v1::ModelSpec& spec = kSrc, uint32_t rows = 2,
                               codec::Tensor* sent = nullptr) {
  const codec::Tensor values = codec::GaussianTensor(rows, spec.hidden_size(), /*seed=*/rows);
  codec::Packet packet = *codec::Encode(values, *codec::ParseEncoding("fp32"));
  packet.model_id = spec.model_id();
  packet.model_fingerprint = spec.fingerprint();
  packet.space = codec::Space::kHidden;
  packet.layer = spec.tap_layer();
  *e.mutable_latent() = codec::ToProto(std::move(packet));
  if (sent != nullptr) *sent = values;
  return e;
}

inline v1::Envelope Envelope(const std::string& message_id, const std::string& text) {
  v1::Envelope e;
  e.set_message_id(message_id);
  e.set_message_class(v1::MESSAGE_CLASS_CONTEXT);
  e.set_text(text);
  return e;
}
inline v1::Envelope ToAgent(const std::string& message_id, const std::string& agent_id,
                            const std::string& text) {
  v1::Envelope e = Envelope(message_id, text);
  e.mutable_recipient()->set_agent_id(agent_id);
  return e;
}
inline v1::Envelope ToTopic(const std::string& message_id, const std::string& topic,
                            const std::string& text) {
  v1::Envelope e = Envelope(message_id, text);
  e.mutable_recipient()->set_topic(topic);
  return e;
}
// A reply to request `request_id`; `to` empty leaves the recipient to the router.
inline v1::Envelope Reply(const std::string& message_id, const std::string& request_id,
                          const std::string& to) {
  v1::Envelope e = to.empty() ? Envelope(message_id, "answer") : ToAgent(message_id, to, "answer");
  e.set_correlation_id(request_id);
  return e;
}
inline v1::Envelope Request(v1::Envelope e) {
  e.set_expects_reply(true);
  return e;
}

inline google::protobuf::Timestamp At(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  ts.set_nanos(
      static_cast<int32_t>(absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(ts.seconds()))));
  return ts;
}

inline std::shared_ptr<const Principal> Anonymous() {
  auto p = std::make_shared<Principal>();
  p->name = "anonymous";
  p->anonymous = true;
  return p;
}

inline Strings AgentsOf(const std::vector<v1::RecipientOutcome>& outcomes) {
  Strings ids;
  for (const v1::RecipientOutcome& o : outcomes) ids.push_back(o.agent_id());
  return ids;
}

inline InMemoryDelivery::Options QueueOptions(const LimitsConfig& limits) {
  InMemoryDelivery::Options options;
  options.max_queue_depth = limits.max_queue_depth;
  options.dedup_window = limits.dedup_window;
  return options;
}

// A Router wired as Broker wires it, with real components and no gRPC.
class Bus {
 public:
  // `tracer` (null: tracing off) records the router's and the delivery layer's spans.
  explicit Bus(const LimitsConfig& limits = {}, telemetry::Tracer* tracer = nullptr)
      : delivery_(QueueOptions(limits), &metrics_, tracer),
        rate_limiter_(limits.rate_per_second, limits.rate_burst),
        policy_(PolicyConfig{}, &bridges_),  // the default: reasoning as text
        pool_(&translator_, {/*threads=*/2, /*max_batch=*/32, /*max_pending=*/64}, &metrics_),
        router_(limits, Router::Components{&registry_, &delivery_, &policy_, &pool_, &timer_,
                                           &metrics_, &rate_limiter_, tracer}) {}
  ~Bus() {  // the router's contract: pool and timer stop before it goes
    pool_.Shutdown();
    timer_.Shutdown();
  }

  // What ConnectReactor does on Register (and on Subscribe).
  std::shared_ptr<StreamRecorder> Connect(const std::string& agent_id, const v1::ModelSpec& model,
                                          Strings topics = {}, uint32_t credits = 100) {
    auto stream = std::make_shared<StreamRecorder>();
    registry_.Register(agent_id, std::make_shared<const v1::ModelSpec>(model), stream, absl::Now());
    delivery_.Attach(agent_id, stream, credits);
    for (const std::string& topic : topics) {
      EXPECT_TRUE(registry_.Subscribe(agent_id, stream.get(), topic, 64).ok());
    }
    return stream;
  }

  void AddBridge(const v1::ModelSpec& src, const v1::ModelSpec& dst, double cosine,
                 bool broken = false) {
    ASSERT_TRUE(
        bridges_.Add(std::make_shared<TruncatingBridge>(src, dst, cosine, broken), false).ok());
  }

  // Sends and waits for the outcome (latent sends finish on a translation thread).
  SendOutcome Send(const std::string& sender_id, v1::Envelope envelope,
                   std::shared_ptr<const Principal> principal = Anonymous()) {
    struct Result {
      absl::Notification done;
      SendOutcome outcome;
    };
    auto result = std::make_shared<Result>();
    router_.Send(SendContext{sender_id, std::move(principal)}, std::move(envelope),
                 [result](SendOutcome outcome) {
                   result->outcome = std::move(outcome);
                   result->done.Notify();
                 });
    if (!result->done.WaitForNotificationWithTimeout(absl::Seconds(30))) {
      ADD_FAILURE() << "Send never finished";
      return {};
    }
    return result->outcome;
  }

  // Returns once every timer callback due before `t` has run (the timer runs them in
  // deadline order on one thread).
  void RunTimerPast(absl::Time t) {
    auto reached = std::make_shared<absl::Notification>();
    timer_.Schedule(t, [reached] { reached->Notify(); });
    ASSERT_TRUE(reached->WaitForNotificationWithTimeout(absl::Seconds(30)));
  }

  // Callbacks the timer holds (deadlines not yet passed nor cancelled).
  size_t timers_pending() const { return timer_.pending(); }

  Router& router() { return router_; }
  InMemoryDelivery& delivery() { return delivery_; }
  Metrics& metrics() { return metrics_; }

 private:
  Metrics metrics_;
  AgentRegistry registry_;
  BridgeRegistry bridges_;
  InMemoryDelivery delivery_;
  RateLimiter rate_limiter_;
  Policy policy_;
  BridgeTranslator translator_;
  TranslationPool pool_;
  Timer timer_;
  Router router_;
};

}  // namespace latentbus::broker::test_bus

#endif  // LATENTBUS_BROKER_ROUTER_TEST_BUS_H_
