// Test harness for cross-component broker tests: a real BrokerServer on loopback
// (port 0) and TestAgent, a real Connect client built on the generated stubs with a
// reader thread that queues every BrokerFrame for the test to wait on.
//
// Also test doubles the tests need (never linked into products): TestBridge, a
// bridge that projects [T, src_dim] onto [T, dst_dim] (copy / zero-pad), with a chosen
// recorded fidelity.
//
// Thread safety: TestAgent's Write* and Next* may be called from the test thread while
// its reader thread runs; one writer thread at a time.
#ifndef LATENTBUS_TESTS_BROKER_HARNESS_H_
#define LATENTBUS_TESTS_BROKER_HARNESS_H_

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "broker/bridge.h"
#include "broker/config.h"
#include "broker/server.h"
#include "codec/encoding.h"
#include "grpcpp/grpcpp.h"
#include "latentbus/v1/broker.grpc.pb.h"

namespace latentbus::testing {

inline constexpr absl::Duration kWait = absl::Seconds(10);

// A config for tests: loopback, port 0, no metrics endpoint, no rate limit.
broker::BrokerConfig TestConfig();

v1::ModelSpec MakeSpec(const std::string& model_id, uint32_t hidden, uint32_t embedding,
                       const std::string& preferred = "int8/g32");

// A valid latent packet of `rows` soft tokens in `spec`'s hidden space.
v1::LatentPacket MakeLatent(const v1::ModelSpec& spec, uint32_t rows,
                            const std::string& encoding = "int4/g32");

v1::Envelope ToAgent(const std::string& message_id, const std::string& agent_id,
                     const std::string& text);
v1::Envelope ToTopic(const std::string& message_id, const std::string& topic,
                     const std::string& text);

// Projection bridge (test double).
class TestBridge final : public broker::Bridge {
 public:
  TestBridge(std::string id, const v1::ModelSpec& src, const v1::ModelSpec& dst, double cosine);
  const broker::BridgeInfo& info() const override { return info_; }
  absl::StatusOr<std::vector<codec::Tensor>> Apply(
      absl::Span<const codec::Tensor* const> batch) const override;

 private:
  broker::BridgeInfo info_;
};

// A TestBridge that takes `delay` per batch: translations still in flight when the test
// acts (test double).
class SlowBridge final : public broker::Bridge {
 public:
  SlowBridge(const v1::ModelSpec& src, const v1::ModelSpec& dst, absl::Duration delay)
      : inner_("slow", src, dst, 0.99), delay_(delay) {}
  const broker::BridgeInfo& info() const override { return inner_.info(); }
  absl::StatusOr<std::vector<codec::Tensor>> Apply(
      absl::Span<const codec::Tensor* const> batch) const override;

 private:
  TestBridge inner_;
  absl::Duration delay_;
};

class TestBroker {
 public:
  explicit TestBroker(broker::BrokerConfig config = TestConfig(),
                      broker::BridgeLoader loader = nullptr);
  broker::BrokerServer& server() { return *server_; }
  broker::Broker& broker() { return server_->broker(); }
  std::string address() const;
  std::shared_ptr<grpc::Channel> Channel() const;
  std::unique_ptr<v1::Broker::Stub> Stub() const;
  void AddBridge(const std::string& id, const v1::ModelSpec& src, const v1::ModelSpec& dst,
                 double cosine);

 private:
  std::unique_ptr<broker::BrokerServer> server_;
};

class TestAgent {
 public:
  // Opens the stream (with `token` as bearer token when non-empty).
  explicit TestAgent(std::shared_ptr<grpc::Channel> channel, const std::string& token = "");
  ~TestAgent();  // cancels the stream and joins the reader

  bool Write(const v1::AgentFrame& frame);
  // Sends Register and waits for Registered (or the stream's end / an Error).
  absl::StatusOr<v1::Registered> Register(const std::string& agent_id, const v1::ModelSpec& spec,
                                          const std::vector<std::string>& topics = {},
                                          uint32_t credits = 0, uint32_t protocol = 0);
  uint64_t Send(const v1::Envelope& envelope);
  void Ack(const std::string& sender_id, const std::string& message_id);
  uint64_t Subscribe(const std::string& topic);
  void Credit(uint32_t credits);
  void CloseWrites();

  // The next frame other than Credit, or nullopt after `timeout` / at the stream's end.
  std::optional<v1::BrokerFrame> Next(absl::Duration timeout = kWait);
  // The next frame of `kind` (skipping others), or nullopt.
  std::optional<v1::BrokerFrame> NextOf(v1::BrokerFrame::FrameCase kind,
                                        absl::Duration timeout = kWait);
  // True when no non-Credit frame arrives within `quiet`.
  bool NothingWithin(absl::Duration quiet);
  // Waits for the server to end the stream; its status (UNKNOWN on timeout).
  grpc::Status AwaitEnd(absl::Duration timeout = kWait);

 private:
  void ReadLoop();
  bool Ready() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !frames_.empty() || ended_; }

  grpc::ClientContext context_;
  std::unique_ptr<v1::Broker::Stub> stub_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::AgentFrame, v1::BrokerFrame>> stream_;
  absl::Mutex write_mu_;
  uint64_t next_seq_ ABSL_GUARDED_BY(write_mu_) = 1;
  mutable absl::Mutex mu_;
  std::deque<v1::BrokerFrame> frames_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
  std::thread reader_;
};

// Expectations on frames (gtest failures when they do not come within kWait).
v1::Error ExpectError(TestAgent& agent, v1::ErrorReason reason);
v1::Envelope ExpectDelivery(TestAgent& agent);

// "Nothing was delivered to `recipient`", proved rather than waited for: `sender` sends
// it a marker, which must be the next delivery it gets (a recipient's deliveries come in
// the order they were queued, so anything wrongly queued before would come first). The
// recipient needs a delivery credit; the marker's SendResult is taken from `sender` and
// the recipient acks the marker.
void ExpectNothingDeliveredBefore(TestAgent& sender, TestAgent& recipient,
                                  const std::string& recipient_id, const std::string& marker_id);

// Acks have no answer: polls until the broker has applied them (nothing left pending for
// `recipient`), for at most 10 s.
bool AwaitNothingPending(TestBroker& broker, const std::string& recipient);

// now + d as a protobuf timestamp (deadlines).
google::protobuf::Timestamp In(absl::Duration d);

// grpc.reflection.v1alpha list_services over a raw bidi call (no reflection stubs ship
// with Debian): the answer's bytes, which name the services; empty when the call fails
// (reflection off: UNIMPLEMENTED).
std::string ReflectionListServices(const std::shared_ptr<grpc::Channel>& channel);

}  // namespace latentbus::testing

#endif  // LATENTBUS_TESTS_BROKER_HARNESS_H_
